"""Per worker: the CPU and memory of each process of the run, and for threads the GIL made visible.

Takes a run's series (``Monitor.series()``: plain arrays, see
``poolside.usage``) and, for in-process backends, the number of busy
threads at the same times.  Two plots side by side share the time axis: CPU in cores
(the host in the accent colour, every worker in one item, busy threads as a
dashed step line) and memory in MiB (host, workers, the tree's total).
"8 threads busy, 1.0 core used" above them says what the lines show.

What is drawn (roles: ``poolside.proctree``): the host, and the *worker
processes of the run*, the processes its items ran in; not the zygote nor
multiprocessing's helpers (they run no item), not workers parked by an
earlier run, not what a task started itself.  All of those are Poolside's
and count in the dashed total memory line, as in the Machine tab's share.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from poolside.words.units import human_bytes

from ..theme import ACCENT
from .plot_base import PalettePlot

WORKER_COLOR = "#9b6fd6"  # every worker process, in one item
TREE_COLOR = "#8fa3b8"
_MIB = 1024.0 * 1024.0
#: What the view counts, for its tooltip.
SCOPE = ("Worker processes: the processes this run's items ran in.  The run host's zygote and "
         "multiprocessing's helpers (they start workers, run no item), workers parked by an earlier run "
         "and what a task starts itself are Poolside's too: they count in the total memory line and in "
         "Poolside's share on the Machine tab, not here.")


def gil_text(threads_busy: float, cores_used: float) -> str:
    """``"8 threads busy, 1.0 core used"``: the numbers that make the GIL visible."""
    t = round(threads_busy)
    return f"{t} thread{'s' if t != 1 else ''} busy, {cores_used:.1f} core{'s' if cores_used >= 1.05 else ''} used"


def _concat_lanes(processes: list[dict[str, Any]], key: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Every process's line in one x/y pair, NaN between them (one item, one colour)."""
    if not processes:
        return np.zeros(0), np.zeros(0)
    xs = np.concatenate([np.append(p["t"], np.nan) for p in processes])
    ys = np.concatenate([np.append(np.asarray(p[key], dtype=float) / scale, np.nan) for p in processes])
    return xs, ys


class WorkerUsage(QWidget):
    """CPU (cores) and memory (MiB) of the host and each worker process over a run."""

    def __init__(self, parent: QWidget | None = None, *, host: str = "host", tree: str = "Poolside") -> None:
        super().__init__(parent)
        self._host, self._tree = host, tree  # what the root process and its tree are called
        self.headline = QLabel("Per-process CPU and memory appear here during a run.", self)
        self.headline.setProperty("role", "hint")
        self.headline.setWordWrap(False)
        self.headline.setMinimumWidth(40)
        self.cpu = PalettePlot(self)
        self.mem = PalettePlot(self)
        for plot in (self.cpu, self.mem):
            plot.setMinimumHeight(60)
            plot.getPlotItem().setMouseEnabled(x=False, y=False)
            plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)
            plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.mem.setXLink(self.cpu)
        self.cpu.getPlotItem().setLabel("left", "CPU (cores)")
        self.mem.getPlotItem().setLabel("left", "RSS (MiB)")
        for plot in (self.cpu, self.mem):
            plot.getPlotItem().setLabel("bottom", "s since start")
        host_pen = pg.mkPen(QColor(ACCENT), width=2)
        worker_pen = pg.mkPen(QColor(WORKER_COLOR), width=1.5)
        self.host_cpu = pg.PlotCurveItem(pen=host_pen, connect="finite")
        self.worker_cpu = pg.PlotCurveItem(pen=worker_pen, connect="finite")
        self.threads = pg.PlotCurveItem(pen=pg.mkPen(QColor(TREE_COLOR), width=1.5, style=Qt.PenStyle.DashLine),
                                        stepMode=None)
        self.host_mem = pg.PlotCurveItem(pen=host_pen, connect="finite")
        self.worker_mem = pg.PlotCurveItem(pen=worker_pen, connect="finite")
        self.tree_mem = pg.PlotCurveItem(pen=pg.mkPen(QColor(TREE_COLOR), width=1, style=Qt.PenStyle.DashLine))
        for it in (self.threads, self.worker_cpu, self.host_cpu):
            self.cpu.addItem(it)
        for it in (self.tree_mem, self.worker_mem, self.host_mem):
            self.mem.addItem(it)
        self.legend = QLabel(self)
        self.legend.setProperty("role", "hint")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # Wrapped, never widening the panel (the window's minimum width) nor cut off at 1024×768.
        self.legend.setWordWrap(True)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.setToolTip(SCOPE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.headline)
        lay.addWidget(self.legend)
        # Side by side: the panel is wider than tall at 1280x800, and stacked they were 30 px high.
        plots = QHBoxLayout()
        plots.setSpacing(4)
        plots.addWidget(self.cpu, 1)
        plots.addWidget(self.mem, 1)
        lay.addLayout(plots, 1)
        self._lay = lay
        self._set_legend(False)
        self.set_series({"processes": [], "t": np.zeros(0), "tree_rss": np.zeros(0)})

    def add_below(self, view: QWidget) -> None:
        """Show ``view`` under the plots (a Dask cluster's workers, beside this machine's processes)."""
        self._lay.addWidget(view, 0)

    def _set_legend(self, in_process: bool) -> None:
        dash = "<span style='color:%s'>╌</span> %s"
        parts = [f"<span style='color:{ACCENT}'>━</span> {self._host}",
                 f"<span style='color:{WORKER_COLOR}'>━</span> workers"]
        parts.append(dash % (TREE_COLOR, "busy threads" if in_process else f"all of {self._tree} (memory)"))
        self.legend.setText(" &nbsp; ".join(parts))

    def set_series(self, series: dict[str, Any], busy: np.ndarray | None = None, *, live: bool = True) -> None:
        """Show a run's processes; ``busy``: threads running items at the host's sample times."""
        procs = series.get("processes", [])
        host = [p for p in procs if p["role"] == "host"]
        workers = [p for p in procs if p["role"] == "worker"]  # this run's: no helper, parked worker or child
        in_process = busy is not None
        self._set_legend(in_process)
        self.host_cpu.setData(*_concat_lanes(host, "cpu", 100.0), connect="finite")
        self.worker_cpu.setData(*_concat_lanes(workers, "cpu", 100.0), connect="finite")
        self.host_mem.setData(*_concat_lanes(host, "rss", _MIB), connect="finite")
        self.worker_mem.setData(*_concat_lanes(workers, "rss", _MIB), connect="finite")
        t = np.asarray(series.get("t", np.zeros(0)), dtype=float)
        rss = np.asarray(series.get("tree_rss", np.zeros(0)), dtype=float)
        self.tree_mem.setData(t, np.nan_to_num(rss) / _MIB) if len(workers) else self.tree_mem.setData([], [])
        host_t = host[0]["t"] if host else np.zeros(0)
        if in_process and len(host_t) == len(busy):  # type: ignore[arg-type]
            self.threads.setData(host_t, busy)
        else:
            self.threads.setData([], [])
        cpu_top = max([1.0, *(np.nanmax(p["cpu"]) / 100.0 for p in procs if len(p["cpu"]))])
        if in_process and busy is not None and len(busy):
            cpu_top = max(cpu_top, float(np.max(busy)))
        mem_top = max([1.0, *(np.nanmax(p["rss"]) / _MIB for p in procs if len(p["rss"]))])
        if len(rss) and len(workers):
            mem_top = max(mem_top, float(np.nanmax(rss)) / _MIB)
        _zero_to(self.cpu, math.ceil(cpu_top), "{:g}")
        _zero_to(self.mem, _nice(mem_top), "{:,.0f}")
        end = max([1.0, *(float(p["t"][-1]) for p in procs if len(p["t"]))])
        self.cpu.getPlotItem().setXRange(0, end, padding=0)
        self._full = self._headline(series, host, workers, busy)
        self._elide()

    def _elide(self) -> None:
        """One line whatever the width (the plots need the height); the whole text in the tooltip."""
        self.headline.setToolTip(self._full + "\n" + SCOPE)
        width = max(40, self.width() - 8)
        self.headline.setText(self.headline.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_full"):
            self._elide()

    def headline_text(self) -> str:
        """The whole headline, unelided."""
        return self._full

    def _headline(self, series: dict[str, Any], host: list, workers: list, busy: np.ndarray | None) -> str:
        if not host:
            return "Per-process CPU and memory appear here during a run."
        h = host[0]
        # Short enough for one line in the Cores panel at 1280 px ("peak memory" was elided).
        mem = f" · peak {human_bytes(series['peak_memory'])}" if series.get("peak_memory") else ""
        if busy is not None and len(busy):
            # While items ran: the mean busy threads against the mean cores the process used.
            running = busy > 0.05
            if running.any():
                return gil_text(float(busy[running].mean()), float(np.nanmean(h["cpu"][running])) / 100.0) + mem
        cores = [float(np.nanmean(p["cpu"])) / 100.0 for p in workers if len(p["cpu"])]
        if cores:
            n = len(cores)
            return (f"{n} worker process{'es' if n != 1 else ''}: {sum(cores):.1f} cores avg, "
                    f"{self._host} {float(np.nanmean(h['cpu'])) / 100.0:.1f}" + mem)
        return f"{self._host} {float(np.nanmean(h['cpu'])) / 100.0:.1f} cores" + mem

    def drawn(self) -> dict[str, np.ndarray]:
        """What each item draws now, y values (for tests)."""
        items = {"host_cpu": self.host_cpu, "worker_cpu": self.worker_cpu, "threads": self.threads,
                 "host_mem": self.host_mem, "worker_mem": self.worker_mem, "tree_mem": self.tree_mem}
        return {k: (it.getData()[1] if it.getData()[1] is not None else np.zeros(0)) for k, it in items.items()}


def _nice(top: float) -> float:
    """A round axis top at or above ``top``: 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 5, 10):
        if m * p >= top:
            return float(m * p)
    return float(10 * p)


def _zero_to(plot: PalettePlot, top: float, fmt: str) -> None:
    """The y axis from 0 to ``top`` with both ends labelled."""
    plot.set_y_ticks([(0.0, "0"), (top, fmt.format(top))], top)
