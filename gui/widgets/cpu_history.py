"""CPU over time: the machine against Poolside's share, and each core.

Both plots take plain arrays (the dicts of :class:`poolside.usage.Monitor`,
``recent()`` for the last 60 s, ``series()`` for a run) and know nothing of
where they came from.  Each colour is one item; data goes into preallocated
numpy buffers and the items get views of them.

* :class:`MachinePlot`: the machine's system and user time stacked (% of the
  whole machine), and Poolside's process tree as its own band in front, so
  another program's load never reads as the run's.  The OS does not say which
  core a process used, so the share is of the machine, not of a core.
* :class:`CoresPlot`: one lane per core (system and user time stacked) up to
  ``HEATMAP_CORES`` cores; past that a heat map, one row per core, time across
  (an ``ImageItem``: one texture whatever the core count).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from ..theme import ACCENT
from .plot_base import PalettePlot

#: More logical cores than this and lanes would be a few pixels tall: a heat map instead.
HEATMAP_CORES = 16
#: The live view's width.
WINDOW_S = 60.0
#: Lane pitch per core, in % units: 100 for the lane and a gap to the next.
_LANE = 125.0

USER_COLOR = "#8fa3b8"  # the machine's user time: a quiet grey-blue, behind
SYSTEM_COLOR = "#d9822b"  # system (kernel) time: orange, as htop's red-ish system share
SHARE_COLOR = ACCENT  # Poolside's process tree: the accent, in front


def _color(hex_: str, alpha: int = 255) -> QColor:
    c = QColor(hex_)
    c.setAlpha(alpha)
    return c


def time_axis(t: np.ndarray, live: bool) -> tuple[np.ndarray, float, float, str]:
    """x values, range and axis label: seconds ago for the live view, since start for a run."""
    if live:
        x = t - (t[-1] if len(t) else 0.0)
        return x, -WINDOW_S, 0.0, "seconds (0 = now)"
    end = float(t[-1]) if len(t) else 1.0
    return t, 0.0, max(end, 1.0), "seconds since start"


class _Buffers:
    """Preallocated float arrays handed out as views: no allocation per redraw once warm."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or len(a) < n:
            a = self._arrays[name] = np.empty(max(n, 2 * len(a) if a is not None else 256))
        return a[:n]


class MachinePlot(PalettePlot):
    """The machine's user and system time stacked, Poolside's share as its own band."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._buf = _Buffers()
        item = self.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        self.set_y_ticks([(0, "0"), (50, "50"), (100, "100")], 100)
        item.setLabel("left", "% of machine")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        # Drawn back to front: all busy time (user on top of system), system, Poolside's band.
        self.busy = pg.PlotDataItem(pen=pg.mkPen(_color(USER_COLOR), width=1), fillLevel=0,
                                    fillBrush=_color(USER_COLOR, 110), name="other programs, user")
        self.system = pg.PlotDataItem(pen=None, fillLevel=0, fillBrush=_color(SYSTEM_COLOR, 150), name="system")
        self.share = pg.PlotDataItem(pen=pg.mkPen(_color(SHARE_COLOR), width=2), fillLevel=0,
                                     fillBrush=_color(SHARE_COLOR, 120), name="Poolside")
        for it in (self.busy, self.system, self.share):
            item.addItem(it)
        self.set_data({"t": np.zeros(0), "user": np.zeros(0), "system": np.zeros(0), "tree_cpu": np.zeros(0)})

    def set_data(self, data: dict[str, Any], *, live: bool = True) -> None:
        t = np.asarray(data["t"], dtype=float)
        n = len(t)
        x, x0, x1, label = time_axis(t, live)
        xs = self._buf.get("x", n)
        xs[:] = x
        system = self._buf.get("system", n)
        np.copyto(system, np.nan_to_num(data["system"]))
        busy = self._buf.get("busy", n)
        np.add(system, np.nan_to_num(data["user"]), out=busy)
        share = self._buf.get("share", n)
        np.copyto(share, np.nan_to_num(data["tree_cpu"]))
        np.minimum(share, 100.0, out=share)
        self.busy.setData(xs, busy)
        self.system.setData(xs, system)
        self.share.setData(xs, share)
        item = self.getPlotItem()
        item.setXRange(x0, x1, padding=0)
        self.set_bottom_label(label)

    def drawn(self) -> dict[str, np.ndarray]:
        """What each item draws now (for tests)."""
        return {name: it.getData()[1] for name, it in (("busy", self.busy), ("system", self.system),
                                                        ("share", self.share))}


class CoresPlot(PalettePlot):
    """Each core over time: stacked system and user lanes or, past 16 cores, a heat map."""

    def __init__(self, cores: int, parent=None) -> None:
        super().__init__(parent)
        self.cores = max(1, int(cores))
        self.heatmap = self.cores > HEATMAP_CORES
        self._buf = _Buffers()
        item = self.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.showGrid(x=False, y=False)
        item.getAxis("left").setStyle(hideOverlappingLabels=False)
        if self.heatmap:
            self.image = pg.ImageItem(axisOrder="row-major")
            self.image.setLookupTable(_heat_lut())
            self.image.setLevels((0, 100))
            item.addItem(self.image)
            item.setYRange(0, self.cores, padding=0)
            step = max(1, self.cores // 8)
            item.getAxis("left").setTicks([[(self.cores - i - 0.5, str(i)) for i in range(0, self.cores, step)], []])
            item.setLabel("left", "core")
        else:
            # One item per colour: every lane's samples as bars of one BarGraphItem (one drawRects).
            self._lanes = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None, brush=_color("#808080", 30))
            self.system = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None,
                                          brush=_color(SYSTEM_COLOR, 220))
            self.user = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None, brush=_color(USER_COLOR, 220))
            for it in (self._lanes, self.system, self.user):
                item.addItem(it)
            item.setYRange(0, (self.cores - 1) * _LANE + 100, padding=0)
            item.setLabel("left", "% per core")
            self._lane_ticks()

    def _base(self, core: int) -> float:
        return (self.cores - 1 - core) * _LANE  # core 0 on top, as Task Manager reads

    def _lane_ticks(self) -> None:
        """"0" and "100" on each lane while they fit, and the core's number in its middle."""
        px = self.getPlotItem().getViewBox().height() / ((self.cores - 1) * _LANE + 100) * 100
        ticks = []
        for c in range(self.cores):
            base = self._base(c)
            if px >= 34:
                ticks += [(base, "0"), (base + 100, "100")]
            if px >= 50 or px < 34:
                ticks.append((base + 50, f"cpu{c}" if px >= 34 else str(c)))
        self.getPlotItem().getAxis("left").setTicks([ticks, []])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_lanes"):
            self._lane_ticks()

    def set_data(self, data: dict[str, Any], *, live: bool = True) -> None:
        t = np.asarray(data["t"], dtype=float)
        x, x0, x1, label = time_axis(t, live)
        user = np.nan_to_num(np.asarray(data["core_user"], dtype=float).reshape(len(t), -1))
        system = np.nan_to_num(np.asarray(data["core_system"], dtype=float).reshape(len(t), -1))
        item = self.getPlotItem()
        item.setXRange(x0, x1, padding=0)
        self.set_bottom_label(label)
        if user.shape[1] != self.cores:
            return  # a core went offline: keep the last picture rather than mislabel rows
        if self.heatmap:
            self._set_heat(x, user + system)
        else:
            self._set_lanes(x, user, system, x0, x1)

    def _set_lanes(self, x: np.ndarray, user: np.ndarray, system: np.ndarray, x0: float, x1: float) -> None:
        n, k = self.cores, len(x)
        bases = np.array([self._base(c) for c in range(n)])
        # Each sample covers the time since the one before: a bar from there to its own time.
        left = self._buf.get("left", k)
        left[1:] = x[:-1]
        if k:
            left[0] = x[0] - (x[1] - x[0] if k > 1 else 0.25)
        width = self._buf.get("width", k)
        np.subtract(x, left, out=width)
        sys_h = self._buf.get("sys", n * k).reshape(n, k)
        np.minimum(system.T, 100.0, out=sys_h)
        user_h = self._buf.get("user", n * k).reshape(n, k)
        np.minimum(user.T, 100.0 - sys_h, out=user_h)
        y0 = self._buf.get("y0", n * k).reshape(n, k)
        y0[:] = bases[:, None]
        y1 = self._buf.get("y1", n * k).reshape(n, k)
        np.add(y0, sys_h, out=y1)
        xs = np.broadcast_to(left, (n, k)).ravel()
        ws = np.broadcast_to(width, (n, k)).ravel()
        self.system.setOpts(x0=xs, width=ws, y0=y0.ravel(), height=sys_h.ravel())
        self.user.setOpts(x0=xs, width=ws, y0=y1.ravel(), height=user_h.ravel())
        self._lanes.setOpts(x0=np.full(n, x0), width=np.full(n, x1 - x0), y0=bases, height=np.full(n, 100.0))

    def _set_heat(self, x: np.ndarray, busy: np.ndarray) -> None:
        if not len(x):
            self.image.clear()
            return
        img = self._buf.get("img", busy.size).reshape(self.cores, len(x))
        np.copyto(img, busy.T[::-1])  # core 0 on top
        self.image.setImage(img, autoLevels=False, levels=(0, 100))
        step = float(np.median(np.diff(x))) if len(x) > 1 else 0.25
        self.image.setRect(float(x[0]) - step, 0.0, float(x[-1] - x[0]) + step, float(self.cores))

    def drawn(self) -> dict[str, Any]:
        """What the items draw now (for tests): heights per lane, or the heat map's image."""
        if self.heatmap:
            return {"image": self.image.image}
        return {"user": self.user.opts["height"], "system": self.system.opts["height"]}


def _heat_lut() -> np.ndarray:
    """Idle to busy: transparent-ish grey to the accent to orange, readable on light and dark."""
    cmap = pg.ColorMap([0.0, 0.5, 1.0], [_color("#808080", 20), _color(ACCENT, 210), _color(SYSTEM_COLOR, 255)])
    return cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
