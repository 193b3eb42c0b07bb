"""The Backend panel: how the task runs (backend, workers, chunks, timeout, order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from poolside.system import default_workers

if TYPE_CHECKING:
    from poolside.backends import BackendInfo


def _backend_infos() -> list[BackendInfo]:
    from poolside import backend_info

    return list(backend_info())


class BackendPanel(QWidget):
    """Run options; ``options()`` gives the keyword arguments for ``poolside.run``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, infos: list[BackendInfo] | None = None) -> None:
        super().__init__(parent)
        self._bound = "mixed"
        self._infos = infos if infos is not None else _backend_infos()

        self.backend = QComboBox(self)
        for info in self._infos:
            self.backend.addItem(info.label or info.name, info.name)
            row = self.backend.count() - 1
            tip = info.description or info.name
            available = getattr(info, "available", True)
            if not available:
                tip = f"Not available: {getattr(info, 'reason', '')}"
                item = self.backend.model().item(row)  # type: ignore[attr-defined]
                if item is not None:
                    item.setEnabled(False)
            self.backend.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        self.backend.currentIndexChanged.connect(self._on_backend)

        self.workers = QSpinBox(self)
        self.workers.setRange(0, 1024)
        self.workers.setToolTip("How many items run at once. Auto: from the cores and what bounds the task.")
        self.workers.valueChanged.connect(self.changed)

        self.chunk = QSpinBox(self)
        self.chunk.setRange(0, 1_000_000)
        self.chunk.setSpecialValueText("Auto")
        self.chunk.setGroupSeparatorShown(True)
        self.chunk.setToolTip(
            "Items sent to a worker at a time. Auto sizes chunks from measured item times:\n"
            "big enough to hide overhead on tiny items, small enough to balance the load."
        )
        self.chunk.valueChanged.connect(self.changed)

        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0, 86_400)
        self.timeout.setDecimals(1)
        self.timeout.setSingleStep(1.0)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("None")
        self.timeout.setToolTip("Per-item time limit; an item past it ends as timed out.")
        self.timeout.valueChanged.connect(self._update_hint)

        self.ordered = QCheckBox("Keep input order", self)
        self.ordered.setToolTip("Deliver results in input order (a slow item holds back the ones after it).")
        self.ordered.toggled.connect(self.changed)

        self.hint = QLabel(self)
        self.hint.setProperty("role", "hint")
        self.hint.setWordWrap(True)

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Backend", self.backend)
        form.addRow("Workers", self.workers)
        form.addRow("Chunk size", self.chunk)
        form.addRow("Timeout", self.timeout)
        form.addRow("", self.ordered)
        form.addRow(self.hint)
        self._on_backend()

    # -- values -------------------------------------------------------------
    def backend_name(self) -> str:
        return self.backend.currentData() or "threads"

    def info(self) -> BackendInfo | None:
        name = self.backend_name()
        return next((i for i in self._infos if i.name == name), None)

    def set_backend(self, name: str) -> bool:
        i = self.backend.findData(name)
        if i >= 0:
            self.backend.setCurrentIndex(i)
        return i >= 0

    def set_bound(self, bound: str) -> None:
        self._bound = bound or "mixed"
        self._update_auto()

    def auto_workers(self) -> int:
        return default_workers(self.backend_name(), self._bound)

    def resolved_workers(self) -> int:
        return self.workers.value() or self.auto_workers()

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``poolside.run`` (``bound`` included)."""
        return {
            "backend": self.backend_name(),
            "workers": self.workers.value() or None,
            "chunk_size": self.chunk.value() or "auto",
            "timeout": self.timeout.value() or None,
            "ordered": self.ordered.isChecked(),
            "bound": self._bound,
        }

    def set_options(self, backend: str, workers: int, chunk: int, timeout: float, ordered: bool) -> None:
        self.set_backend(backend)
        self.workers.setValue(max(0, workers))
        self.chunk.setValue(max(0, chunk))
        self.timeout.setValue(max(0.0, timeout))
        self.ordered.setChecked(ordered)

    # -- slots --------------------------------------------------------------
    def _on_backend(self, *_args) -> None:
        self.backend.setToolTip(self.backend.itemData(self.backend.currentIndex(), Qt.ItemDataRole.ToolTipRole) or "")
        self._update_auto()
        self._update_hint()
        self.changed.emit()

    def _update_auto(self) -> None:
        self.workers.setSpecialValueText(f"Auto ({self.auto_workers()})")
        if self.workers.value() == 0:
            # A spin box showing its special value keeps the old text until its value moves.
            self.workers.blockSignals(True)
            self.workers.setValue(1)
            self.workers.setValue(0)
            self.workers.blockSignals(False)

    def _update_hint(self, *_args) -> None:
        info = self.info()
        if info is not None and self.timeout.value() > 0 and not info.kills_hung_items:
            self.hint.setText(f"{info.label or info.name} cannot stop a hung item: "
                              "it is reported timed out but keeps its worker busy.")
        else:
            self.hint.setText("")
        self.hint.setVisible(bool(self.hint.text()))
        self.changed.emit()

    def set_busy(self, busy: bool) -> None:
        for w in (self.backend, self.workers, self.chunk, self.timeout, self.ordered):
            w.setEnabled(not busy)
