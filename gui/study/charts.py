"""The study's two charts: speed-up per configuration, and speed-up against workers.

Both draw from the study's ``ConfigResult`` records.  The bar chart is
horizontal so configuration names read on the left axis whatever their length;
the fastest is on top; one ``BarGraphItem`` per family colour and one
``ErrorBarItem`` for every whisker keep drawing to a handful of items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor

from poolside.study import Config, ConfigResult
from poolside.study.record import fastest_first
from poolside.words.configs import FAMILY_COLORS, config_label, family, family_color

from ..widgets.plot_base import PalettePlot
from ..widgets.value_labels import ValueLabels

_BAR = 0.62


def scaling_series(configs: Sequence[ConfigResult]) -> dict[str, list[tuple[int, float]]]:
    """Backend -> [(workers, speed-up)] for the backends measured at two or more worker counts."""
    series: dict[str, dict[int, float]] = {}
    for c in configs:
        if c.config.sequential:
            continue
        points = series.setdefault(c.config.backend, {})
        points[c.config.workers] = max(points.get(c.config.workers, 0.0), c.speedup)
    return {b: sorted(points.items()) for b, points in series.items() if len(points) >= 2}


def legend_html(families: list[str]) -> str:
    """The colour key for the families shown."""
    return " &nbsp; ".join(f"<span style='color:{FAMILY_COLORS[f]}'>■</span> {f}" for f in families)


class SpeedupChart(PalettePlot):
    """One bar per configuration: median speed-up against sequential, min-max whisker.

    The plot items are made once and then fed new arrays (``setOpts``/``setData``),
    as pyqtgraph's own live examples do: rebuilding them cost the GUI thread
    5.8 ms a live redraw of 48 configurations (adding an item to a plot re-parents
    it and re-lays the view out), and the axis range and ticks, which a redraw
    set anew each time, repainted and re-laid out both axes too.
    """

    #: A configuration's bar was clicked (its ConfigResult).
    configActivated = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._configs: list[ConfigResult] = []
        self._highlight: Config | None = None
        self._labels: ValueLabels | None = None  # every bar's value, one item
        self._bars: dict[str, pg.BarGraphItem] = {}  # one per family colour, kept
        self._whiskers: pg.ErrorBarItem | None = None
        self._outline: pg.BarGraphItem | None = None  # the recommendation's outline
        self._axes: tuple[Any, ...] = ()  # (left ticks, x range's top) as last set
        item = self.getPlotItem()
        item.setLabel("bottom", "speed-up against sequential (×)")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.showGrid(x=True, y=False, alpha=0.18)
        item.setMouseEnabled(x=False, y=False)
        item.disableAutoRange()  # the ranges are set with the data (an auto-range re-reads every item's bounds)
        self.setMinimumHeight(180)
        self._one = pg.InfiniteLine(pos=1.0, angle=90, pen=pg.mkPen("#8c919a", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self._one, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)

    @property
    def bar_count(self) -> int:
        return len(self._configs)

    def labels(self) -> list[str]:
        """The configurations shown, fastest first."""
        return [config_label(c.config) for c in self._configs]

    def families(self) -> list[str]:
        return list(dict.fromkeys(family(c.config.backend) for c in self._configs))

    def set_configs(self, configs: Sequence[ConfigResult], highlight: Config | None = None) -> None:
        """Draw ``configs``; ``highlight``: the recommended configuration, outlined."""
        self._configs = fastest_first(configs)
        self._highlight = highlight
        n = len(self._configs)
        ys = np.arange(n - 1, -1, -1, dtype=float)  # the fastest on top
        speedups = np.array([c.speedup for c in self._configs], dtype=float)
        fams = np.array([family(c.config.backend) for c in self._configs], dtype=object)
        for fam in self.families():
            rows = fams == fam
            bars = self._bars.get(fam)
            if bars is None:
                bars = self._bars[fam] = self._add(pg.BarGraphItem(
                    x0=0.0, y=ys[rows], height=_BAR, width=speedups[rows], brush=QColor(FAMILY_COLORS[fam]),
                    pen=None), z=0)
            else:
                bars.setOpts(y=ys[rows], width=speedups[rows])
            bars.setVisible(True)
        shown = set(self.families())
        for fam, bars in self._bars.items():
            if fam not in shown:
                bars.setVisible(False)
        self._set_whiskers(ys, speedups)
        self._set_values(ys, speedups, highlight)
        self._set_axes(ys)

    def _add(self, it: Any, z: float) -> Any:
        it.setZValue(z)  # bars under whiskers under outline under labels, whatever was made first
        self.getPlotItem().addItem(it)
        return it

    def _set_whiskers(self, ys: np.ndarray, mid: np.ndarray) -> None:
        if not self._configs:
            if self._whiskers is not None:
                self._whiskers.setVisible(False)
            return
        lo, hi = (np.array(v, dtype=float) for v in zip(*(c.speedup_range() for c in self._configs)))
        data = {"x": mid, "y": ys, "left": np.clip(mid - lo, 0, None), "right": np.clip(hi - mid, 0, None)}
        if self._whiskers is None:
            self._whiskers = self._add(pg.ErrorBarItem(beam=0.22, pen=pg.mkPen(self.text_color(), width=1), **data),
                                       z=1)
        else:
            self._whiskers.setData(**data)  # makes it visible again

    def _set_values(self, ys: np.ndarray, speedups: np.ndarray, highlight: Config | None) -> None:
        """Each bar's value, past the end of its whisker."""
        if self._labels is None:
            self._labels = ValueLabels(self.text_color(), self.font())
            self._labels.setZValue(3)
            self.getPlotItem().addItem(self._labels, ignoreBounds=True)
        ends = [max(c.speedup_range()[1], float(s)) for c, s in zip(self._configs, speedups)]
        self._labels.setData(ends, ys, [f"{s:.2f}×" for s in speedups])
        self._set_outline(ys, speedups, highlight)

    def _set_outline(self, ys: np.ndarray, speedups: np.ndarray, best: Config | None) -> None:
        """The recommendation's bar, outlined in the text colour."""
        rows = [k for k, c in enumerate(self._configs) if c.config == best]
        if not rows:
            if self._outline is not None:
                self._outline.setVisible(False)
            return
        y, width = ys[rows[:1]], speedups[rows[:1]]
        if self._outline is None:
            self._outline = self._add(pg.BarGraphItem(x0=0.0, y=y, height=_BAR + 0.12, width=width, brush=None,
                                                      pen=pg.mkPen(self.text_color(), width=2)), z=2)
        else:
            self._outline.setOpts(y=y, width=width)
        self._outline.setVisible(True)

    def _set_axes(self, ys: np.ndarray) -> None:
        """The names on the left and the ranges, set only when they change.

        Setting them anew each time (same values or not) re-laid out and repainted
        both axes in the next event-loop turn: 11-17 ms a round of 24-48 configurations.
        The x range grows in quarter steps so a wobbling leader does not rescale it.
        """
        item = self.getPlotItem()
        ticks = [(float(y), config_label(c.config)) for y, c in zip(ys, self._configs)]
        top = max([c.speedup_range()[1] for c in self._configs] + [1.0])
        x_top = math.ceil(top * 1.2 * 4) / 4
        if ticks != (self._axes[0] if self._axes else None):
            left = item.getAxis("left")
            left.setTicks([ticks])
            width = max((self.fontMetrics().horizontalAdvance(t) for _, t in ticks), default=40)
            left.setWidth(min(width + 14, 260))
            item.setYRange(-0.6, max(len(ticks), 1) - 0.4, padding=0)
        if not self._axes or x_top != self._axes[1]:
            item.setXRange(0, x_top, padding=0)
        self._axes = (ticks, x_top)

    def _drop_items(self) -> None:
        """Forget the kept items (a palette change draws them again in its colours)."""
        item = self.getPlotItem()
        for it in [*self._bars.values(), self._whiskers, self._outline, self._labels]:
            if it is not None:
                item.removeItem(it)
        self._bars, self._whiskers, self._outline, self._labels, self._axes = {}, None, None, None, ()

    def on_palette_changed(self) -> None:
        if getattr(self, "_configs", None):
            self._drop_items()
            self.set_configs(self._configs, self._highlight)

    def _clicked(self, event: Any) -> None:
        if not self._configs:
            return
        point = self.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        row = round(point.y())
        n = len(self._configs)
        if 0 <= row < n and abs(point.y() - row) <= _BAR / 2:
            self.configActivated.emit(self._configs[n - 1 - row])


class ScalingChart(PalettePlot):
    """Speed-up against workers, one line per backend, the ideal line and the physical core count.

    Like the bar chart, its lines are made once and fed new points: rebuilding
    them (``clear()`` and a ``PlotDataItem`` per backend, each with its symbols)
    cost 8-10 ms a live round of 24-48 configurations, the largest part of a redraw.
    """

    _SYMBOLS = ("o", "s", "t", "d", "+", "x")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._series: dict[str, list[tuple[int, float]]] = {}
        self._physical = 0
        self._lines: dict[str, pg.PlotDataItem] = {}  # backend -> its line, kept
        self._fixed: dict[str, pg.PlotDataItem] = {}  # "ideal" and "cores", kept
        self._axes: tuple[Any, ...] = ()  # (x ticks, x top, y top) as last set
        item = self.getPlotItem()
        item.setLabel("bottom", "workers")
        item.setLabel("left", "speed-up (×)")
        for side in ("bottom", "left"):
            item.getAxis(side).enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMouseEnabled(x=False, y=False)
        item.disableAutoRange()  # the ranges are set with the data (an auto-range re-reads every item's bounds)
        self._drawn = False

    @property
    def series(self) -> dict[str, list[tuple[int, float]]]:
        return dict(self._series)

    def set_configs(self, configs: Sequence[ConfigResult], physical_cores: int) -> None:
        series, physical = scaling_series(list(configs)), int(physical_cores or 0)
        if self._drawn and (series, physical) == (self._series, self._physical):
            return  # most results of a live study leave the scaling as it was: no repaint
        self._series, self._physical = series, physical
        self._draw()

    def legend_html(self) -> str:
        """The key, for a label above the plot (a legend inside it would cover the lines)."""
        if not self._series:
            return ""
        parts = ["┈ ideal (speed-up = workers)"]  # in the label's own colour: no palette colour kept in the text
        if self._physical:
            parts.append(f"<span style='color:#8c919a'>┆</span> {self._physical} physical&nbsp;cores")
        parts += [f"<span style='color:{family_color(b)}'>●</span>&nbsp;{b.replace('-', '&#8209;')}"
                  for b in sorted(self._series)]  # a non-breaking hyphen: "mp-pool" stays whole
        return " &nbsp; ".join(parts)

    def lines(self) -> dict[str, pg.PlotDataItem]:
        """The drawn line of each backend shown."""
        return {b: line for b, line in self._lines.items() if b in self._series}

    def _draw(self) -> None:
        self._drawn = True
        workers = sorted({w for pts in self._series.values() for w, _ in pts} | {1})
        top = max(workers + [self._physical])
        top_speed = max([s for pts in self._series.values() for _, s in pts] + [2.0])
        # The y range grows in half steps so a wobbling speed-up does not rescale (and repaint) the axis.
        y_top = math.ceil(top_speed * 1.1 * 2) / 2
        # The ranges first: a range change re-feeds every line's points to its symbols.
        self._set_axes(sorted(set(workers) | {self._physical} - {0}), top, y_top)
        self._fixed_line("ideal", [1, top], [1, top],
                         pg.mkPen(self.text_color(), width=1, style=Qt.PenStyle.DotLine))
        # A line item, not an InfiniteLine with a label: the key above the
        # plot names it, so no label is ever clipped at the plot's edge.
        self._fixed_line("cores", [self._physical] * 2 if self._physical else [], [0, y_top] if self._physical else [],
                         pg.mkPen("#8c919a", width=1, style=Qt.PenStyle.DashLine))
        for backend in [b for b in self._lines if b not in self._series]:
            self.getPlotItem().removeItem(self._lines.pop(backend))
        for k, (backend, points) in enumerate(sorted(self._series.items())):
            xs, ys = [w for w, _ in points], [s for _, s in points]
            symbol = self._SYMBOLS[k % len(self._SYMBOLS)]
            line = self._lines.get(backend)
            if line is None:
                color = QColor(family_color(backend))
                # No dynamic range limit (a handful of points): with it, each y-range change
                # re-fed the line's points to its symbols, 40 times in a first draw (~11 ms).
                line = self._lines[backend] = pg.PlotDataItem(
                    xs, ys, pen=pg.mkPen(color, width=2), symbol=symbol, symbolBrush=color, symbolPen=None,
                    symbolSize=8, dynamicRangeLimit=None)
                self.getPlotItem().addItem(line)
                continue
            if line.opts["symbol"] != symbol:  # a backend sorted in before it
                line.setSymbol(symbol)
            line.setData(xs, ys)

    def _fixed_line(self, name: str, xs: list[float], ys: list[float], pen: Any) -> None:
        line = self._fixed.get(name)
        if line is None:
            line = self._fixed[name] = pg.PlotDataItem(xs, ys, pen=pen, dynamicRangeLimit=None)
            self.getPlotItem().addItem(line)
        else:
            line.setData(xs, ys)

    def _set_axes(self, ticks: list[int], top: int, y_top: float) -> None:
        """Ticks and ranges, set only when they change (each set re-lays the axes out and repaints them)."""
        item = self.getPlotItem()
        old = self._axes or (None, None, None)
        if ticks != old[0]:
            item.getAxis("bottom").setTicks([[(w, str(w)) for w in ticks]])
        if top != old[1]:
            item.setXRange(0.5, top + 0.5, padding=0.02)
        if y_top != old[2]:
            item.setYRange(0, y_top, padding=0)
        self._axes = (ticks, top, y_top)

    def on_palette_changed(self) -> None:
        if getattr(self, "_drawn", False):
            self.getPlotItem().clear()  # drawn again from scratch, in the new colours
            self._lines, self._fixed, self._axes = {}, {}, ()
            self._draw()
