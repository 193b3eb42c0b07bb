"""The Backend panel: how the task runs (backend, workers, chunks, method, timeout, memory cap, order).

It offers its values as the backend fields of a :class:`poolside.spec.JobSpec`
(``spec_fields``), takes settings back (``apply``: what a study recommends, or
an opened job file) and keeps its own settings (``save_settings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from poolside.engine.libthreads import caps_library_threads
from poolside.spec import JobSpec
from poolside.words.configs import library_threads_unsupported
from poolside.words.memory import cap_unsupported
from poolside.words.units import SizeError, parse_size, size_text

from .. import settings as cfg
from .cluster_box import ClusterBox

#: The calls a classic pool can make, per backend (first: its default).  The
#: other backends have one way to hand out items, so Method is off for them.
POOL_METHODS: dict[str, tuple[str, ...]] = {
    "process-executor": ("submit", "map"),
    "thread-executor": ("submit", "map"),
    "mp-pool": ("imap_unordered", "imap", "map"),
}

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
        self._workers_before = 0  # Workers as chosen before Sequential took it to Auto (1)
        self._infos = infos if infos is not None else _backend_infos()

        self.backend = self._backend_combo()
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

        self.method = QComboBox(self)
        self.method.setToolTip("How a classic pool is called (map, imap, submit…); only the classic pools have one.")
        self.method.currentIndexChanged.connect(self.changed)

        self.memory_cap = QLineEdit(self)
        self.memory_cap.setPlaceholderText("None (e.g. 1GB, 512MB)")
        self.memory_cap.setToolTip("A worker process that holds more than this is killed: its item fails,\n"
                                   "saying how much it used, and a new worker goes on (process backends).")
        self.memory_cap.textChanged.connect(self._update_hint)

        self.library_threads = QSpinBox(self)
        self.library_threads.setRange(0, 1024)
        self.library_threads.setSpecialValueText("As they are")
        self.library_threads.setToolTip(
            "Threads each worker's libraries (BLAS, OpenMP: numpy, scikit-learn) may use while an item runs.\n"
            "For a task that already uses several cores by itself: 1 keeps N workers from running N × cores\n"
            "threads (process backends and sequential; threadpoolctl).")
        self.library_threads.valueChanged.connect(self._update_hint)

        self.ordered = QCheckBox("Keep input order", self)
        self.ordered.setToolTip("Deliver results in input order (a slow item holds back the ones after it).")
        self.ordered.toggled.connect(self.changed)

        dask = next((i for i in self._infos if i.name == "dask"), None)
        self.cluster = ClusterBox(self, available=dask is None or dask.available,
                                  reason=dask.reason if dask is not None else "")
        self.cluster.changed.connect(self.changed)

        self.hint = QLabel(self)
        self.hint.setProperty("role", "hint")
        self.hint.setWordWrap(True)
        self._lay_out()
        self._on_backend()

    def _backend_combo(self) -> QComboBox:
        combo = QComboBox(self)
        for info in self._infos:
            combo.addItem(info.label or info.name, info.name)
            row = combo.count() - 1
            tip = info.description or info.name
            # Dask stays selectable without its package: its box says how to install it.
            if not getattr(info, "available", True) and info.name != "dask":
                tip = f"Not available: {getattr(info, 'reason', '')}"
                item = combo.model().item(row)  # type: ignore[attr-defined]
                if item is not None:
                    item.setEnabled(False)
            combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        return combo

    def _lay_out(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Backend", self.backend)
        form.addRow("Workers", self.workers)
        form.addRow("Chunk size", self.chunk)
        form.addRow("Method", self.method)
        form.addRow("Timeout", self.timeout)
        form.addRow("Memory per worker", self.memory_cap)
        form.addRow("Library threads", self.library_threads)
        form.addRow("", self.ordered)
        form.addRow(self.cluster)
        form.addRow(self.hint)
        # The cluster's rows line up with the panel's: its labels take this form's label column.
        labels = [form.labelForField(w) for w in (self.backend, self.workers, self.chunk, self.method,
                                                   self.timeout, self.memory_cap, self.library_threads)]
        self.cluster.align_labels(max(label.sizeHint().width() for label in labels if label is not None))

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
        """What Auto means now: the spec's own default for this backend and kind of work."""
        return JobSpec("-", backend=self.backend_name()).resolved_workers(self._bound)

    def resolved_workers(self) -> int:
        """The count the run will use, worked out where every front end does (JobSpec)."""
        fields = self.spec_fields()
        return JobSpec("-", backend=fields["backend"], workers=fields["workers"]).resolved_workers(self._bound)

    def method_name(self) -> str | None:
        return self.method.currentData() if self.backend_name() in POOL_METHODS else None

    def spec_fields(self) -> dict[str, Any]:
        """The backend fields of a :class:`~poolside.spec.JobSpec`, as the panel shows them.

        A memory cap is there only when one is typed and the backend can
        enforce it; as typed, so that ``JobSpec`` says what is wrong with a bad size.
        """
        fields: dict[str, Any] = {
            "backend": self.backend_name(),
            "workers": None if self.single_worker else (self.workers.value() or None),
            "chunk_size": self.chunk.value() or "auto",
            "timeout": self.timeout.value() or None,
            "ordered": self.ordered.isChecked(),
            "method": self.method_name(),
        }
        cap = self.memory_cap.text().strip()
        if cap and self._caps_memory():
            fields["max_memory_per_worker"] = cap
        if self.library_threads.value() and self._caps_library_threads():
            fields["library_threads"] = self.library_threads.value()
        if self.backend_name() == "dask":  # where the cluster is, how files travel
            fields["backend_options"] = self.cluster.backend_options()
        return fields

    def _caps_memory(self) -> bool:
        info = self.info()
        return info is not None and info.caps_worker_memory

    def _caps_library_threads(self) -> bool:
        info = self.info()
        return info is not None and caps_library_threads(info.name, info.kind)

    def apply(self, *, backend: str | None = None, workers: int | None = None, chunk_size: int | str | None = None,
              method: str | None = None, timeout: float | None = None, ordered: bool | None = None,
              max_memory_per_worker: int | None = None, library_threads: int | None = None) -> None:
        """Show these settings (``None``: leave as is, except Auto for workers and chunk size given as such)."""
        if backend is not None:
            self.set_backend(backend)
        if workers is not None and self.single_worker:
            self._workers_before = max(0, int(workers))  # shown again when another backend is picked
        elif workers is not None:
            self.workers.setValue(max(0, int(workers)))
        if chunk_size is not None:
            self.chunk.setValue(0 if chunk_size == "auto" else max(0, int(chunk_size)))
        if method is not None:
            i = self.method.findData(method)
            if i >= 0:
                self.method.setCurrentIndex(i)
        if timeout is not None:
            self.timeout.setValue(max(0.0, float(timeout)))
        if ordered is not None:
            self.ordered.setChecked(bool(ordered))
        if max_memory_per_worker is not None:
            self.memory_cap.setText(size_text(max_memory_per_worker, max_memory_per_worker)
                                    if max_memory_per_worker > 0 else "")
        if library_threads is not None:
            self.library_threads.setValue(max(0, int(library_threads)))

    def apply_spec(self, spec: JobSpec) -> None:
        self.apply(backend=spec.backend, workers=spec.workers or 0, chunk_size=spec.chunk_size,
                   method=spec.method, timeout=spec.timeout or 0.0, ordered=spec.ordered,
                   max_memory_per_worker=spec.max_memory_per_worker or 0,
                   library_threads=spec.library_threads or 0)
        if spec.backend == "dask":
            self.cluster.apply_options(dict(spec.backend_options))

    # -- settings -----------------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        s.setValue("backend/name", self.backend_name())
        s.setValue("backend/workers", self.workers.value())
        s.setValue("backend/chunk", self.chunk.value())
        s.setValue("backend/method", self.method_name() or "")
        s.setValue("backend/timeout", self.timeout.value())
        s.setValue("backend/ordered", self.ordered.isChecked())
        s.setValue("backend/memory_cap", self.memory_cap.text().strip())
        s.setValue("backend/library_threads", self.library_threads.value())
        self.cluster.save_settings(s)

    def restore_settings(self, s: QSettings) -> None:
        self.apply(
            backend=cfg.get_str(s, "backend/name", "processes"),
            workers=cfg.get_int(s, "backend/workers", 0),
            chunk_size=cfg.get_int(s, "backend/chunk", 0),
            method=cfg.get_str(s, "backend/method") or None,
            timeout=cfg.get_float(s, "backend/timeout", 0.0),
            ordered=cfg.get_bool(s, "backend/ordered", False),
            library_threads=cfg.get_int(s, "backend/library_threads", 0),
        )
        self.memory_cap.setText(cfg.get_str(s, "backend/memory_cap", ""))
        self.cluster.restore_settings(s)

    # -- slots --------------------------------------------------------------
    @property
    def single_worker(self) -> bool:
        """The backend runs one item at a time whatever Workers says (sequential)."""
        return self.backend_name() == "sequential"

    def _clamp_workers(self) -> None:
        """Sequential runs one item at a time: Workers shows Auto (1) and cannot be changed;
        the number chosen for other backends comes back when one is picked again."""
        single = self.single_worker
        if single and self.workers.isEnabled():
            self._workers_before = self.workers.value()
            self.workers.setValue(0)
        elif not single and not self.workers.isEnabled():
            self.workers.setValue(self._workers_before)
        self.workers.setEnabled(not single)
        self.workers.setToolTip("Sequential runs one item at a time in this process." if single else
                                "How many items run at once. Auto: from the cores and what bounds the task.")

    def _on_backend(self, *_args) -> None:
        self.backend.setToolTip(self.backend.itemData(self.backend.currentIndex(), Qt.ItemDataRole.ToolTipRole) or "")
        self._clamp_workers()
        self._update_auto()
        self._update_methods()
        self.cluster.setVisible(self.backend_name() == "dask")
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

    def _update_methods(self) -> None:
        methods = POOL_METHODS.get(self.backend_name(), ())
        keep = self.method.currentData()
        self.method.blockSignals(True)
        self.method.clear()
        for m in methods:
            self.method.addItem(m, m)
        if not methods:
            self.method.addItem("—", None)
        i = self.method.findData(keep)
        self.method.setCurrentIndex(max(0, i))
        self.method.blockSignals(False)
        self.method.setEnabled(bool(methods))

    def _update_hint(self, *_args) -> None:
        info = self.info()
        hints = []
        if info is not None and self.timeout.value() > 0 and not info.kills_hung_items:
            hints.append(f"{info.label or info.name} cannot stop a hung item: "
                         "it is reported timed out but keeps its worker busy.")
        hints += self._memory_hint(info)
        hints += self._library_threads_hint(info)
        self.hint.setText("\n".join(hints))
        self.hint.setVisible(bool(self.hint.text()))
        self.changed.emit()

    def _memory_hint(self, info: BackendInfo | None) -> list[str]:
        """What is wrong with the memory cap as typed, or why this backend ignores it."""
        text = self.memory_cap.text().strip()
        self.memory_cap.setEnabled(info is None or info.caps_worker_memory)
        if not text:
            return []
        if info is not None and not info.caps_worker_memory:
            return [f"No memory cap: {cap_unsupported(info.name, info.kind)}."]
        try:
            parse_size(text)
        except SizeError as e:
            return [f"Memory per worker: {e}."]
        return []

    def _library_threads_hint(self, info: BackendInfo | None) -> list[str]:
        """Why this backend cannot cap the libraries' threads, when a cap is set."""
        capable = info is None or caps_library_threads(info.name, info.kind)
        self.library_threads.setEnabled(capable)
        if info is None or capable or not self.library_threads.value():
            return []
        return [f"No library thread cap: {library_threads_unsupported(info.name, info.kind)}."]

    def shutdown(self) -> None:
        """The window closes: a connection test still running ends now."""
        self.cluster.stop()
