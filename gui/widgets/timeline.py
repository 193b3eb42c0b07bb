"""Which worker ran which item when: one horizontal bar per item.

Items land in fixed-size numpy ring buffers (start, duration, worker, status),
so memory stays bounded on a million-item run: the plot keeps the most recent
``capacity`` items.  Drawing is one ``BarGraphItem`` per status colour, each a
single ``drawRects`` call, redrawn on a timer only when something changed.
Bars narrower than a pixel are widened to one pixel so short items stay
visible at any zoom.

What the bars do not show by themselves is drawn too: each worker's start-up
(from the run's start to its first item) as a hatched bar, so a slow start
does not read as idling; gaps between items stay empty, as idle time is.
Given the process's CPU over time (``set_process_cpu``, for in-process
backends), bars that ran while the process had less than one core per busy
thread (the GIL serialising them) are drawn pale, one item per status colour
again.  Hovering a bar shows its item, status and times.
"""

from __future__ import annotations

from operator import attrgetter

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QToolTip

from poolside.records import STATUS_ORDER, Status
from poolside.usage import busy_threads
from poolside.words import units as fmt

from .plot_base import PalettePlot

#: Status -> colour code, in core's order (poolside.records.STATUS_ORDER).
_CODES = {status.value: code for code, status in enumerate(STATUS_ORDER)}
_UNKNOWN = _CODES[Status.CANCELLED.value]
_STARTED, _WORKER, _ELAPSED, _STATUS, _ITEM = (
    attrgetter(f) for f in ("started_s", "worker", "elapsed_s", "status", "item"))
_BAR_HEIGHT = 0.72
#: Bars that had less than this many cores per busy thread are drawn pale.  Not 1.0: a
#: thread that waits a little on I/O or on the engine is not GIL-bound.
CONTENDED_BELOW = 0.75
_PALE_ALPHA = 85


def legend_html() -> str:
    """The colour key, for a label beside the plot."""
    keys = [f"<span style='color:{s.color}'>■</span>&nbsp;{s.label.replace(' ', '&nbsp;')}" for s in STATUS_ORDER]
    keys += ["▨&nbsp;start&#8209;up", "pale:&nbsp;GIL&#8209;bound"]
    return " &nbsp; ".join(keys)


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
        self._items = np.empty(self.capacity, dtype=object)  # for the hover tooltip
        self._first = np.full(64, np.inf)  # each worker's first start: its start-up ends there
        self._cpu_t = np.zeros(0)  # the process's CPU (cores), for in-process backends
        self._cpu_cores = np.zeros(0)
        self._cpu_interval = 0.25
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
        self._startup = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None)
        item.addItem(self._startup)
        self._bars: list[pg.BarGraphItem] = []
        self._pale: list[pg.BarGraphItem] = []
        for status in STATUS_ORDER:
            bars = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None, brush=QColor(status.color))
            pale_color = QColor(status.color)
            pale_color.setAlpha(_PALE_ALPHA)
            pale = pg.BarGraphItem(x0=[], width=[], y0=[], height=[], pen=None, brush=pale_color)
            item.addItem(bars)
            item.addItem(pale)
            self._bars.append(bars)
            self._pale.append(pale)
        self._note = pg.TextItem("", anchor=(0, 0))
        self._note.setZValue(10)
        item.addItem(self._note, ignoreBounds=True)
        self._empty = QLabel("Items appear here as they run, one row per worker.", self)
        self._empty.setProperty("role", "hint")  # the theme's secondary text, in light and dark alike
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_workers(1)
        item.getViewBox().sigXRangeChanged.connect(self._range_changed)
        self.scene().sigMouseMoved.connect(self._hover)
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
        self._first[:] = np.inf
        self._items[:] = None
        self._cpu_t = self._cpu_cores = np.zeros(0)
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
            self._place_hint()

    def _place_hint(self) -> None:
        """The empty-plot hint over the data area only: never over an axis."""
        vb = self.getPlotItem().getViewBox()
        rect = self.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        self._empty.setGeometry(rect.adjusted(4, 4, -4, -4))

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
        items = _objects(_items_of(outcomes))[keep]
        start, worker = start[keep], worker[keep]
        n = len(start)
        top = int(worker.max()) + 1
        if top > self._workers:
            self.set_workers(top)
        if top > len(self._first):
            self._first = np.concatenate((self._first, np.full(top - len(self._first), np.inf)))
        np.minimum.at(self._first, worker.astype(np.intp), start)
        first = self._pos
        k = min(n, self.capacity - first)
        for buf, new in ((self._start, start), (self._dur, dur), (self._worker, worker), (self._code, code),
                         (self._items, items)):
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
        pale = self.contended()
        for c, (bars, pale_bars) in enumerate(zip(self._bars, self._pale)):
            for target, mask in ((bars, (code == c) & ~pale), (pale_bars, (code == c) & pale)):
                target.setOpts(
                    x0=start[mask],
                    width=width[mask],
                    y0=worker[mask] - _BAR_HEIGHT / 2,
                    height=np.full(int(mask.sum()), _BAR_HEIGHT),
                )
        self._draw_startup()
        dropped = self._seen - n
        self._note.setText(f"latest {fmt.count(n)} of {fmt.count(self._seen)} items" if dropped > 0 else "")
        (x0, _x1), (_y0, y1) = vb.viewRange()
        self._note.setPos(x0, y1)
        self._empty.setVisible(n == 0)

    def _draw_startup(self) -> None:
        rows = np.flatnonzero(np.isfinite(self._first[: self._workers]) & (self._first[: self._workers] > 0))
        ends = self._first[rows]
        self._startup.setOpts(x0=np.zeros(len(rows)), width=ends, y0=rows - _BAR_HEIGHT / 2,
                              height=np.full(len(rows), _BAR_HEIGHT))

    def startup(self) -> np.ndarray:
        """Each worker's start-up: the time of its first item (inf for a worker that ran none)."""
        return self._first[: self._workers].copy()

    # -- the GIL made visible -------------------------------------------------
    def set_process_cpu(self, t, cores, interval_s: float) -> None:
        """The in-process backend's CPU (cores used, one value per sample ending at ``t``),
        on the items' clock; ``None``-free arrays.  Pass empty arrays for process backends."""
        self._cpu_t = np.asarray(t, dtype=float)
        self._cpu_cores = np.asarray(cores, dtype=float)
        self._cpu_interval = float(interval_s)
        self._dirty = True

    def busy_threads(self, at, interval_s: float) -> np.ndarray:
        """How many items were running (mean over each interval ending at ``at``), from the bars held."""
        n = self._count
        return busy_threads(self._start[:n], self._dur[:n], np.asarray(at, dtype=float), interval_s)

    def contended(self) -> np.ndarray:
        """Which bars ran while the process had less than CONTENDED_BELOW cores per busy thread."""
        n = self._count
        pale = np.zeros(n, dtype=bool)
        t = self._cpu_t
        if n == 0 or len(t) == 0:
            return pale
        busy = self.busy_threads(t, self._cpu_interval)
        per_thread = np.where(busy > 0, np.nan_to_num(self._cpu_cores) / np.maximum(busy, 1e-9), np.inf)
        bad = (busy >= 1.5) & (per_thread < CONTENDED_BELOW)  # one thread alone cannot contend
        # Each bar is judged by the sample that covers its middle; bars newer than the last
        # sample (it lags by up to a second) by the last one, rather than drawn solid until then.
        mid = self._start[:n] + self._dur[:n] / 2
        k = np.clip(np.searchsorted(t, mid, side="left"), 0, len(t) - 1)
        return bad[k]

    # -- hover ------------------------------------------------------------------
    def bar_at(self, x: float, y: float) -> int | None:
        """The slot of the bar under (x s, row y), or None."""
        n = self._count
        row = round(y)
        if n == 0 or abs(y - row) > _BAR_HEIGHT / 2:
            return None
        px = self.getPlotItem().getViewBox().viewPixelSize()[0] or 0.0
        start, end = self._start[:n], self._start[:n] + np.maximum(self._dur[:n], px)
        hits = np.flatnonzero((self._worker[:n] == row) & (start <= x + px) & (end >= x - px))
        return int(hits[-1]) if len(hits) else None

    def describe_bar(self, slot: int) -> str:
        status = _STATUS_BY_CODE[int(self._code[slot])]
        start, dur = float(self._start[slot]), float(self._dur[slot])
        pale = bool(self.contended()[slot]) if len(self._cpu_t) else False
        lines = [
            f"{self._items[slot]}",
            f"{status.label} on worker {int(self._worker[slot])}",
            f"{start:.3f} s → {start + dur:.3f} s ({fmt.human_duration(dur)})",
        ]
        if pale:
            lines.append("waiting on the GIL: less than one core per busy thread")
        return "\n".join(lines)

    def _hover(self, pos: QPointF) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        slot = self.bar_at(p.x(), p.y())
        if slot is None:
            QToolTip.hideText()
            return
        QToolTip.showText(self.mapToGlobal(self.mapFromScene(pos)), self.describe_bar(slot), self)

    def on_palette_changed(self) -> None:
        if hasattr(self, "_startup"):
            hatch = self.text_color()
            hatch.setAlpha(120)
            self._startup.setOpts(brush=QBrush(hatch, Qt.BrushStyle.BDiagPattern))
        if hasattr(self, "_note"):
            self._note.setColor(self.text_color())


_STATUS_BY_CODE = dict(enumerate(STATUS_ORDER))


def _items_of(outcomes) -> list:
    """Each record's item, for the tooltip (records that name none, as a study's timings, show "")."""
    try:
        return list(map(_ITEM, outcomes))
    except AttributeError:
        return [getattr(o, "item", "") for o in outcomes]


def _objects(values) -> np.ndarray:
    """A 1-d object array of ``values`` (np.array would make a 2-d array of tuples)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
