"""Which worker ran which item when: one horizontal bar per item.

Items land in fixed-size numpy ring buffers (start, duration, worker, status),
so memory stays bounded on a million-item run: the plot keeps the most recent
``capacity`` items.  Drawing is one ``BarGraphItem`` per status colour, each a
single ``drawRects`` call, redrawn on a timer only when something changed.
Bars narrower than a pixel are widened to one pixel so short items stay
visible at any zoom.
"""

from __future__ import annotations

from operator import attrgetter

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

from poolside.records import STATUS_ORDER

from ..theme import STATUS_COLORS
from .plot_base import PalettePlot

#: Status -> colour code, in core's order (poolside.records.STATUS_ORDER).
_CODES = {status.value: code for code, status in enumerate(STATUS_ORDER)}
_NAMES = [status.label for status in STATUS_ORDER]
_UNKNOWN = _CODES["cancelled"]
_STARTED, _WORKER, _ELAPSED, _STATUS = (attrgetter(f) for f in ("started_s", "worker", "elapsed_s", "status"))
_BAR_HEIGHT = 0.72


def legend_html() -> str:
    """The colour key, for a label beside the plot."""
    dots = " &nbsp; ".join(
        f"<span style='color:{STATUS_COLORS[key]}'>■</span> {name}" for key, name in zip(_CODES, _NAMES)
    )
    return dots


#: How to move around the timeline, for its tooltip.
NAVIGATION_HELP = "Wheel to zoom, drag to pan, double-click to see the whole run."


class TimelinePlot(PalettePlot):
    """Per-worker timeline of the current run."""

    def __init__(self, parent=None, *, capacity: int = 20_000, redraw_ms: int = 250) -> None:
        super().__init__(parent)
        self.capacity = int(capacity)
        self._start = np.zeros(self.capacity)
        self._dur = np.zeros(self.capacity)
        self._worker = np.zeros(self.capacity)
        self._code = np.zeros(self.capacity, dtype=np.int8)
        self._pos = 0  # next slot to write
        self._count = 0  # filled slots (<= capacity)
        self._seen = 0  # items ever added this run
        self._workers = 1
        self._dirty = False

        item = self.getPlotItem()
        item.setLabel("bottom", "seconds since start")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.setMouseEnabled(x=True, y=False)
        item.showGrid(x=True, y=False, alpha=0.15)
        vb = item.getViewBox()
        vb.setLimits(xMin=-0.05)
        vb.disableAutoRange(axis=vb.XAxis)
        vb.sigRangeChangedManually.connect(self._stop_following)
        #: Show the whole run from 0 until the user zooms or pans.
        self.follow = True
        self._bars: list[pg.BarGraphItem] = []
        for name in _CODES:
            bars = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None, brush=QColor(STATUS_COLORS[name]))
            item.addItem(bars)
            self._bars.append(bars)
        self._note = pg.TextItem("", anchor=(0, 0))
        self._note.setZValue(10)
        item.addItem(self._note, ignoreBounds=True)
        self._empty = QLabel("Items appear here as they run, one row per worker.", self)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_workers(1)
        item.getViewBox().sigXRangeChanged.connect(self._range_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(redraw_ms)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.on_palette_changed()

    # -- data ---------------------------------------------------------------
    @property
    def shown(self) -> int:
        """How many items the plot holds now."""
        return self._count

    def reset(self, workers: int | None = None) -> None:
        """Forget the last run (``clear`` is the plot item's own, hence the name)."""
        self._pos = self._count = self._seen = 0
        if workers is not None:
            self.set_workers(workers)
        self._dirty = True
        self.follow = True
        self.redraw()

    def set_workers(self, workers: int) -> None:
        self._workers = max(1, int(workers))
        self.getPlotItem().setYRange(-0.5, self._workers - 0.5, padding=0.02)
        self._update_worker_ticks()

    def _update_worker_ticks(self) -> None:
        # One label per worker while they fit (~16 px apart), else every n-th.
        height = max(1, self.getPlotItem().getViewBox().height())
        fit = max(1, int(height // 16))
        step = 1
        while self._workers / step > fit:
            step *= 2
        ticks = [(w, f"w{w}") for w in range(0, self._workers, step)]
        self.getPlotItem().getAxis("left").setTicks([ticks, []])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_workers"):
            self._update_worker_ticks()
            self._dirty = True
            self._empty.setGeometry(self.rect().adjusted(40, 0, 0, -40))

    def add(self, outcomes) -> None:
        """Add the items of a batch that ran (a start time and a worker)."""
        if not outcomes:
            return
        # Read each field by name (attrgetter runs in C), then let numpy do the
        # rest: None (items that never ran) becomes NaN and is dropped.
        if len(outcomes) > self.capacity:
            self._seen += len(outcomes) - self.capacity
            outcomes = outcomes[-self.capacity :]
        start = np.array(list(map(_STARTED, outcomes)), dtype=float)
        worker = np.array(list(map(_WORKER, outcomes)), dtype=float)
        keep = ~(np.isnan(start) | np.isnan(worker))
        if not keep.any():
            return
        dur = np.array(list(map(_ELAPSED, outcomes)), dtype=float)[keep]
        statuses = list(map(_STATUS, outcomes))
        codes_of = {s: _CODES.get(str(s), _UNKNOWN) for s in set(statuses)}
        code = np.fromiter(map(codes_of.__getitem__, statuses), np.int8, len(statuses))[keep]
        start, worker = start[keep], worker[keep]
        n = len(start)
        top = int(worker.max()) + 1
        if top > self._workers:
            self.set_workers(top)
        first = self._pos
        k = min(n, self.capacity - first)
        for buf, new in ((self._start, start), (self._dur, dur), (self._worker, worker), (self._code, code)):
            buf[first : first + k] = new[:k]
            buf[: n - k] = new[k:]
        self._pos = (first + n) % self.capacity
        self._count = min(self.capacity, self._count + n)
        self._seen += n
        self._dirty = True

    # -- drawing ------------------------------------------------------------
    def _range_changed(self, *_args) -> None:
        self._dirty = True

    def _stop_following(self, *_args) -> None:
        self.follow = False

    def mouseDoubleClickEvent(self, event) -> None:
        """Double-click: back to the whole run."""
        self.follow = True
        self._dirty = True
        self.redraw()
        event.accept()

    def redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        n = self._count
        start, dur, worker, code = self._start[:n], self._dur[:n], self._worker[:n], self._code[:n]
        vb = self.getPlotItem().getViewBox()
        if self.follow:
            end = float((start + dur).max()) if n else 1.0
            right = max(end, 1e-3) * 1.03
            if abs(vb.viewRange()[0][1] - right) > 1e-9 or vb.viewRange()[0][0] != 0:
                vb.setXRange(0, right, padding=0)
        px = vb.viewPixelSize()[0] or 0.0
        width = np.maximum(dur, px)
        for c, bars in enumerate(self._bars):
            mask = code == c
            bars.setOpts(
                x0=start[mask],
                width=width[mask],
                y0=worker[mask] - _BAR_HEIGHT / 2,
                height=np.full(int(mask.sum()), _BAR_HEIGHT),
            )
        dropped = self._seen - n
        self._note.setText(f"latest {n:,} of {self._seen:,} items" if dropped > 0 else "")
        (x0, _x1), (_y0, y1) = vb.viewRange()
        self._note.setPos(x0, y1)
        self._empty.setVisible(n == 0)

    def on_palette_changed(self) -> None:
        if hasattr(self, "_empty"):
            self._note.setColor(self.text_color())
            pal = self._empty.palette()
            hint = self.text_color()
            hint.setAlpha(140)
            pal.setColor(QPalette.ColorRole.WindowText, hint)
            self._empty.setPalette(pal)
