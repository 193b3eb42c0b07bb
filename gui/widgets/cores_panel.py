"""The machine's cores, plainly: counts, CPU model, memory, and what the cores and Poolside did.

The panel shows what it is given (``show_recent`` with the last 60 s of
samples, ``show_run`` with a run's series); it never samples anything itself.
Three tabs: the machine against Poolside's share, each core, each worker.
"Last 60 s" follows the present; "Last run" keeps the whole run once it ends.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QTabWidget, QVBoxLayout, QWidget

from poolside.system import system_info
from poolside.words.units import human_bytes, human_duration

from .cluster_workers import ClusterWorkers
from .cpu_history import SHARE_COLOR, SYSTEM_COLOR, USER_COLOR, CoresPlot, MachinePlot
from .worker_usage import WorkerUsage

LIVE, RUN = "Last 60 s", "Last run"


def cores_text(info=None) -> str:
    info = info or system_info()
    parts = [f"{info.logical_cores} logical cores", f"{info.physical_cores} physical"]
    if info.usable_cores != info.logical_cores:
        parts.append(f"{info.usable_cores} usable by Poolside")
    return " · ".join(parts)


def usage_text(sample: dict[str, Any], tree: str = "Poolside") -> str:
    """``"machine 69 % · Poolside 50 % · 180.0 MiB (run peak 210.0 MiB)"`` from the latest sample:
    Poolside's share is of the whole machine, the memory is its process tree's."""
    if not sample:
        return ""
    machine = _pct(sample.get("user", math.nan) + sample.get("system", math.nan))
    parts = [f"machine {machine}", f"{tree} {_pct(sample.get('tree_cpu', math.nan))}"]
    now = sample.get("memory", math.nan)
    if now == now and now > 0:
        mem = human_bytes(now)
        peak = sample.get("peak_memory", 0.0)
        if peak and peak == peak:
            mem += f" (run peak {human_bytes(max(peak, now))})"
        parts.append(mem)
    return " · ".join(parts)


def run_text(series: dict[str, Any]) -> str:
    """``"4 cores · 12.00 s sampled every 250.0 ms · peak 210.0 MiB"`` for a stored run."""
    t = series.get("t", ())
    if not len(t):
        return "No CPU samples in this run."
    span = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    text = (f"{int(series.get('cores', 0))} cores · {human_duration(span)} sampled every "
            f"{human_duration(float(series['interval_s']))}")
    peak = float(series.get("peak_memory") or 0.0)
    return text + (f" · peak {human_bytes(peak)}" if peak else "")


def _pct(x: float) -> str:
    return "– %" if x != x else f"{x:.0f} %"


def _last(data: dict[str, Any]) -> dict[str, float]:
    if not len(data.get("t", ())):
        return {}
    out = {k: float(data[k][-1]) for k in ("user", "system", "tree_cpu")}
    # The latest sample's RSS of the run's tree: the measure of the run's peak beside it
    # (poolside.proctree), never an older sample's.
    out["memory"] = float(data["tree_rss"][-1])
    return out


class CoresPanel(QWidget):
    """Core counts, CPU model, the use line and the CPU history tabs.

    ``live=False``: a stored run only (the History tab), without the last 60 s.
    ``tree``, ``host``: what the sampled process tree and its root are called ("Poolside" and "host";
    "the program" and "main" for an observed program).
    """

    def __init__(self, parent: QWidget | None = None, *, live: bool = True, tree: str = "Poolside",
                 host: str = "host") -> None:
        super().__init__(parent)
        self._live = live
        self._tree = tree
        info = system_info()
        self.counts = QLabel(cores_text(info))
        self.counts.setObjectName("coresCounts")
        self.counts.setToolTip(f"{info.cpu_model} · {human_bytes(info.memory_bytes)} RAM · {info.platform}")
        self.model = QLabel(f"{info.cpu_model} · {human_bytes(info.memory_bytes)} RAM")
        self.model.setProperty("role", "hint")
        self.model.setToolTip(self.model.text())
        self.usage = QLabel(self)
        self.usage.setObjectName("coresUsage")
        self.usage.setToolTip("The whole machine's CPU; Poolside's share of it: the run host and every "
                              "process under it (its zygote, the workers, workers parked for the next run, "
                              "what a task starts), summed; and their memory (USS where it can be read, "
                              "else RSS).  The window itself is not counted.")
        # The three lines wrap rather than widen the panel or cut a word off: at 1024×768 the panel
        # is ~290 px wide, narrower than a CPU model's name and the memory line.
        for label in (self.counts, self.model, self.usage):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.mode = QComboBox(self)
        self.mode.addItems([LIVE, RUN])
        self.mode.setAccessibleName("CPU history range")
        self.mode.setToolTip("The last 60 seconds, or the whole of the last run (kept when it ends)")
        self._set_run_choice(False)  # until there is a run
        self.mode.currentTextChanged.connect(self._redraw)

        self.machine = MachinePlot(self)
        self.per_core = CoresPlot(info.logical_cores, self)
        self.workers = WorkerUsage(self, host=host, tree=tree)
        self.cluster_workers = ClusterWorkers(self)
        self.workers.add_below(self.cluster_workers)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._with_key(self.machine, self._machine_key(tree)), "Machine")
        self.tabs.addTab(self._with_key(self.per_core, self._cores_key(self.per_core.heatmap)), "Per core")
        self.tabs.addTab(self.workers, "Workers")
        self.tabs.setAccessibleName("CPU history")
        self.tabs.currentChanged.connect(self._redraw)

        # The range chooser sits beside the CPU model, not in the tab bar's corner: there it took the
        # room of the third tab, which a narrow panel then hid behind scroll arrows.
        model = QHBoxLayout()
        model.setSpacing(8)
        model.addWidget(self.model, 1)
        model.addWidget(self.mode, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.counts)
        lay.addLayout(model)
        lay.addWidget(self.usage)
        lay.addWidget(self.tabs, 1)
        self._recent: dict[str, Any] | None = None
        self._run: dict[str, Any] | None = None
        self._busy: np.ndarray | None = None
        self._last_run_shown = False
        if not live:
            self._set_run_choice(True)
            self.mode.setCurrentText(RUN)
            self.mode.hide()

    @staticmethod
    def _with_key(plot: QWidget, key: str) -> QWidget:
        box = QWidget()
        label = QLabel(key)
        label.setProperty("role", "hint")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(label)
        lay.addWidget(plot, 1)
        return box

    def show_workers(self) -> None:
        """Bring the Workers tab forward (the worker processes, and a cluster's workers)."""
        self.tabs.setCurrentWidget(self.workers)

    def watch_cluster(self, address: str | None) -> None:
        """A run on the Dask cluster at ``address`` starts (``None``: a run elsewhere, or it ended)."""
        if address:
            self.cluster_workers.watch(address)
        else:
            self.cluster_workers.stop()

    def shutdown(self) -> None:
        self.cluster_workers.stop()

    @staticmethod
    def _machine_key(tree: str) -> str:
        return (f"<span style='color:{SHARE_COLOR}'>■</span> {tree} &nbsp; "
                f"<span style='color:{USER_COLOR}'>■</span> all programs &nbsp; "
                f"<span style='color:{SYSTEM_COLOR}'>■</span> of which system")

    @staticmethod
    def _cores_key(heatmap: bool) -> str:
        if heatmap:  # one row per core, the colour says how busy
            return (f"busy: <span style='color:#a0a0a0'>■</span> 0 % &nbsp; <span style='color:{SHARE_COLOR}'>■</span>"
                    f" 50 % &nbsp; <span style='color:{SYSTEM_COLOR}'>■</span> 100 % (user + system)")
        return (f"<span style='color:{USER_COLOR}'>■</span> user &nbsp; "
                f"<span style='color:{SYSTEM_COLOR}'>■</span> system")

    # -- data in --------------------------------------------------------------
    def show_recent(self, data: dict[str, Any]) -> None:
        """The last 60 s of samples (``Monitor.recent``)."""
        self._recent = data
        last = _last(data)
        if self._run is not None and self._run.get("ended") is None:
            last["peak_memory"] = float(self._run.get("peak_memory", 0.0))
        self.usage.setText(usage_text(last, self._tree))
        if self.mode.currentText() == LIVE:
            self._redraw()

    def show_run(self, series: dict[str, Any], busy: np.ndarray | None = None) -> None:
        """A run's series (``Monitor.series``), during the run and once more when it ends;
        ``busy``: busy threads at the host's sample times, for in-process backends."""
        self._run, self._busy = series, busy
        self._set_run_choice(True)
        if not self._live:
            self.usage.setText(run_text(series))
            self._redraw()
            return
        if series.get("ended") is not None and not self._last_run_shown:
            self._last_run_shown = True
            self.mode.setCurrentText(RUN)  # keep the run on screen once it is over (redraws)
        elif self.mode.currentText() == RUN:
            self._redraw()
        elif self.tabs.currentWidget() is self.workers:
            self.workers.set_series(series, busy)

    def _set_run_choice(self, enabled: bool) -> None:
        item = self.mode.model().item(1)  # type: ignore[attr-defined]  # a combo box's model is a QStandardItemModel
        item.setEnabled(enabled)

    def run_started(self) -> None:
        self._last_run_shown = False
        self.mode.setCurrentText(LIVE)

    def _redraw(self, *_args) -> None:
        """Draw the tab on screen (the others catch up when shown: 2-5 ms saved a tick)."""
        live = self.mode.currentText() == LIVE
        data = self._recent if live else self._run
        shown = self.tabs.currentIndex()
        if data is not None and len(data.get("t", ())):
            if shown == 0:
                self.machine.set_data(data, live=live)
            elif shown == 1:
                self.per_core.set_data(data, live=live)
        if shown == 2 and self._run is not None:
            self.workers.set_series(self._run, self._busy)

    def peak_memory(self) -> float:
        """The last run's peak memory (``poolside.proctree``: its tree's summed RSS), in bytes (0 before a run)."""
        return float(self._run.get("peak_memory", 0.0)) if self._run else 0.0

