"""What to compare: Auto, or a grid of backends × workers × chunk sizes × methods; sample, repeats, budget,
and the memory the recommendation may need."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from poolside.words.units import SizeError, parse_size

from ... import settings as cfg
from ...widgets.backend_panel import POOL_METHODS

DEFAULT_BACKENDS = ("sequential", "threads", "processes")


class GridError(ValueError):
    """A grid field that does not parse: the message says which and why."""


def parse_ints(text: str, field: str, *, allow_auto: bool = False) -> list[int | str]:
    """``"1, 2, 8"`` -> ``[1, 2, 8]``; ``auto`` where allowed."""
    values: list[int | str] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if allow_auto and part == "auto":
            values.append("auto")
        elif part.isdigit() and int(part) >= 1:
            values.append(int(part))
        else:
            also = " or auto" if allow_auto else ""
            raise GridError(f"{field}: {part!r} is not a whole number of at least 1{also}")
    return list(dict.fromkeys(values))


class CompareForm(QWidget):
    """The study's settings; ``plan_fields()`` gives the plan's fields (spec aside)."""

    changed = Signal()

    def __init__(self, backends: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.auto = QRadioButton("Auto: decide what to try within the budget", self)
        self.grid = QRadioButton("Grid: every combination below", self)
        self._mode = QButtonGroup(self)
        for b in (self.auto, self.grid):
            self._mode.addButton(b)
        self.auto.setChecked(True)
        self.backends = QListWidget(self)
        for info in backends:
            item = QListWidgetItem(info.label or info.name)
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if info.name in DEFAULT_BACKENDS else Qt.CheckState.Unchecked)
            if not getattr(info, "available", True):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.backends.addItem(item)
        self.backends.setMaximumHeight(self.fontMetrics().height() * 7)
        self.workers = QLineEdit("1, 2, 4", self)
        self.workers.setToolTip("Worker counts to try, separated by commas")
        self.chunks = QLineEdit("auto", self)
        self.chunks.setToolTip("Chunk sizes to try: auto or whole numbers, separated by commas")
        self.methods = QLineEdit("", self)
        self.methods.setPlaceholderText("each pool's default")
        per_pool = "; ".join(f"{b}: {', '.join(m)}" for b, m in POOL_METHODS.items())
        self.methods.setToolTip(f"For the classic pools: {per_pool}")
        self.sample = QSpinBox(self)
        self.sample.setRange(0, 1_000_000)
        self.sample.setSpecialValueText("Auto (about 2 s of work)")
        self.sample.setToolTip("How many of the files each configuration runs over (the same files for all)")
        self.repeats = QSpinBox(self)
        self.repeats.setRange(1, 50)
        self.repeats.setValue(3)
        self.budget = QDoubleSpinBox(self)
        self.budget.setRange(5, 3600)
        self.budget.setValue(60)
        self.budget.setSuffix(" s")
        self.budget.setDecimals(0)
        self.max_memory = QLineEdit(self)
        self.max_memory.setPlaceholderText("What is available")
        self.max_memory.setToolTip("Recommend nothing predicted to need more memory than this (2GB, 512MB…);\n"
                                   "empty: the memory the machine has available")
        self.problem = QLabel(self)
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self._lay_out()
        for signal in (self.auto.toggled, self.workers.textChanged, self.chunks.textChanged, self.methods.textChanged,
                       self.sample.valueChanged, self.repeats.valueChanged, self.budget.valueChanged,
                       self.max_memory.textChanged,
                       self.backends.itemChanged):
            signal.connect(self.changed)
        self.auto.toggled.connect(self._update_mode)
        self._update_mode()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Backends", self.backends)
        form.addRow("Workers", self.workers)
        form.addRow("Chunk sizes", self.chunks)
        form.addRow("Methods", self.methods)
        self.grid_form = QWidget(self)
        self.grid_form.setLayout(form)
        common = QFormLayout()
        common.setContentsMargins(0, 0, 0, 0)
        common.addRow("Sample size", self.sample)
        common.addRow("Repeats", self.repeats)
        common.addRow("Budget", self.budget)
        common.addRow("Memory limit", self.max_memory)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.auto)
        lay.addWidget(self.grid)
        lay.addWidget(self.grid_form)
        lay.addLayout(common)
        lay.addWidget(self.problem)

    def _update_mode(self, *_args) -> None:
        self.grid_form.setEnabled(self.grid.isChecked())

    def set_busy(self, busy: bool) -> None:
        for w in (self.auto, self.grid, self.sample, self.repeats, self.budget, self.max_memory):
            w.setEnabled(not busy)
        self.grid_form.setEnabled(not busy and self.grid.isChecked())

    def checked_backends(self) -> list[str]:
        items = (self.backends.item(i) for i in range(self.backends.count()))
        return [it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked]

    def set_grid(self, backends: list[str], workers: str = "1, 2, 4", chunks: str = "auto", methods: str = "") -> None:
        self.grid.setChecked(True)
        for i in range(self.backends.count()):
            it = self.backends.item(i)
            on = it.data(Qt.ItemDataRole.UserRole) in backends
            it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.workers.setText(workers)
        self.chunks.setText(chunks)
        self.methods.setText(methods)

    def plan_fields(self) -> dict[str, Any]:
        """The plan without its spec; :class:`GridError` (also shown) for a grid that does not parse."""
        fields: dict[str, Any] = {
            "mode": "auto" if self.auto.isChecked() else "grid",
            "sample": self.sample.value() or None,
            "repeats": self.repeats.value(),
            "budget_s": float(self.budget.value()),
        }
        try:
            fields["max_memory"] = self._max_memory()
            if fields["mode"] == "grid":
                fields["backends"] = self.checked_backends()
                if not fields["backends"]:
                    raise GridError("Backends: tick at least one")
                fields["workers"] = parse_ints(self.workers.text(), "Workers") or [1]
                fields["chunk_sizes"] = parse_ints(self.chunks.text(), "Chunk sizes", allow_auto=True) or ["auto"]
                methods = [m.strip() for m in self.methods.text().split(",") if m.strip()]
                fields["methods"] = methods or [None]
        except GridError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            raise
        self.problem.hide()
        return fields

    def _max_memory(self) -> int | None:
        text = self.max_memory.text().strip()
        if not text:
            return None
        try:
            return parse_size(text)
        except SizeError as e:
            raise GridError(f"Memory limit: {e}") from None

    def save_settings(self, s: QSettings) -> None:
        cfg.set_json(s, "compare/form", {
            "mode": "auto" if self.auto.isChecked() else "grid", "backends": self.checked_backends(),
            "workers": self.workers.text(), "chunks": self.chunks.text(), "methods": self.methods.text(),
            "sample": self.sample.value(), "repeats": self.repeats.value(), "budget": self.budget.value(),
            "max_memory": self.max_memory.text().strip(),
        })

    def restore_settings(self, s: QSettings) -> None:
        saved = cfg.get_json(s, "compare/form", None)
        if not isinstance(saved, dict):
            return
        self.set_grid(list(saved.get("backends", DEFAULT_BACKENDS)), str(saved.get("workers", "1, 2, 4")),
                      str(saved.get("chunks", "auto")), str(saved.get("methods", "")))
        (self.auto if saved.get("mode", "auto") == "auto" else self.grid).setChecked(True)
        self.sample.setValue(int(saved.get("sample", 0)))
        self.repeats.setValue(int(saved.get("repeats", 3)))
        self.budget.setValue(float(saved.get("budget", 60)))
        self.max_memory.setText(str(saved.get("max_memory", "")))
