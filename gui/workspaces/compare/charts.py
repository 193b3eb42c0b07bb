"""The study's two charts: speed-up per configuration, and speed-up against workers.

Both draw from study-record dicts (see ``record.py``).  The bar chart is
horizontal so configuration names read on the left axis whatever their length;
the fastest is on top; one ``BarGraphItem`` per family colour and one
``ErrorBarItem`` for every whisker keep drawing to a handful of items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor

from ...widgets.plot_base import PalettePlot
from .record import FAMILY_COLORS, config_label, family, family_color, ranked, scaling_series, speedup_range

_BAR = 0.62


def legend_html(families: list[str]) -> str:
    """The colour key for the families shown."""
    return " &nbsp; ".join(f"<span style='color:{FAMILY_COLORS[f]}'>■</span> {f}" for f in families)


class SpeedupChart(PalettePlot):
    """One bar per configuration: median speed-up against sequential, min-max whisker."""

    #: A configuration's bar was clicked (its record).
    configActivated = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._configs: list[Mapping[str, Any]] = []
        self._highlight: Mapping[str, Any] | None = None
        self._texts: list[pg.TextItem] = []
        self._items: list[Any] = []
        item = self.getPlotItem()
        item.setLabel("bottom", "speed-up against sequential (×)")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.showGrid(x=True, y=False, alpha=0.18)
        item.setMouseEnabled(x=False, y=False)
        self.setMinimumHeight(180)
        self._one = pg.InfiniteLine(pos=1.0, angle=90, pen=pg.mkPen("#8c919a", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(self._one, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)

    @property
    def bar_count(self) -> int:
        return len(self._configs)

    def labels(self) -> list[str]:
        """The configurations shown, fastest first."""
        return [config_label(c) for c in self._configs]

    def families(self) -> list[str]:
        return list(dict.fromkeys(family(str(c.get("backend"))) for c in self._configs))

    def set_configs(self, configs: Sequence[Mapping[str, Any]], highlight: Mapping[str, Any] | None = None) -> None:
        item = self.getPlotItem()
        for it in self._items:
            item.removeItem(it)
        self._items = []
        self._configs = ranked(list(configs))
        self._highlight = highlight
        n = len(self._configs)
        ys = [n - 1 - i for i in range(n)]  # the fastest on top
        for fam in self.families():
            rows = [(y, c) for y, c in zip(ys, self._configs) if family(str(c.get("backend"))) == fam]
            bars = pg.BarGraphItem(
                x0=[0.0] * len(rows), y=[y for y, _ in rows], height=_BAR,
                width=[float(c.get("speedup") or 0) for _, c in rows],
                brush=QColor(FAMILY_COLORS[fam]), pen=None,
            )
            self._add(bars)
        self._add_whiskers(ys)
        self._add_values(ys, highlight)
        ticks = [(y, config_label(c)) for y, c in zip(ys, self._configs)]
        left = item.getAxis("left")
        left.setTicks([ticks])
        width = max((self.fontMetrics().horizontalAdvance(t) for _, t in ticks), default=40)
        left.setWidth(min(width + 14, 260))
        top = max([speedup_range(c)[1] for c in self._configs] + [1.0])
        item.setXRange(0, top * 1.2, padding=0)
        item.setYRange(-0.6, max(n, 1) - 0.4, padding=0)

    def _add(self, it: Any) -> None:
        self.getPlotItem().addItem(it)
        self._items.append(it)

    def _add_whiskers(self, ys: list[int]) -> None:
        if not self._configs:
            return
        import numpy as np

        mid = np.array([float(c.get("speedup") or 0) for c in self._configs])
        lo, hi = (np.array(v) for v in zip(*(speedup_range(c) for c in self._configs)))
        self._add(pg.ErrorBarItem(
            x=mid, y=np.array(ys, dtype=float), left=np.clip(mid - lo, 0, None), right=np.clip(hi - mid, 0, None),
            beam=0.22, pen=pg.mkPen(self.text_color(), width=1),
        ))

    def _add_values(self, ys: list[int], highlight: Mapping[str, Any] | None) -> None:
        # The value labels are kept and reused: creating a TextItem costs ~0.2 ms,
        # and a live study redraws the chart after every configuration.
        while len(self._texts) < len(ys):
            text = pg.TextItem("", anchor=(0, 0.5))
            self.getPlotItem().addItem(text)
            self._texts.append(text)
        color = self.text_color()
        best = config_label(highlight) if highlight else None
        for k, text in enumerate(self._texts):
            text.setVisible(k < len(ys))
        for text, y, c in zip(self._texts, ys, self._configs):
            _, hi = speedup_range(c)
            speedup = float(c.get("speedup") or 0)
            text.setText(f"{speedup:.2f}×", color)
            text.setPos(max(hi, speedup) * 1.01 + 0.02, y)
            if config_label(c) == best:  # the recommendation: outlined in the text colour
                self._add(pg.BarGraphItem(x0=[0.0], y=[y], height=_BAR + 0.12, width=[speedup], brush=None,
                                          pen=pg.mkPen(self.text_color(), width=2)))

    def on_palette_changed(self) -> None:
        if getattr(self, "_configs", None):
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
    """Speed-up against workers, one line per backend, the ideal line and the physical core count."""

    _SYMBOLS = ("o", "s", "t", "d", "+", "x")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._series: dict[str, list[tuple[int, float]]] = {}
        self._physical = 0
        item = self.getPlotItem()
        item.setLabel("bottom", "workers")
        item.setLabel("left", "speed-up (×)")
        for side in ("bottom", "left"):
            item.getAxis(side).enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMouseEnabled(x=False, y=False)
        self._drawn = False

    @property
    def series(self) -> dict[str, list[tuple[int, float]]]:
        return dict(self._series)

    def set_configs(self, configs: Sequence[Mapping[str, Any]], physical_cores: int) -> None:
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

    def _draw(self) -> None:
        item = self.getPlotItem()
        item.clear()
        self._drawn = True
        workers = sorted({w for pts in self._series.values() for w, _ in pts} | {1})
        top = max(workers + [self._physical])
        top_speed = max([s for pts in self._series.values() for _, s in pts] + [2.0])
        ideal = pg.PlotDataItem([1, top], [1, top], pen=pg.mkPen(self.text_color(), width=1, style=Qt.PenStyle.DotLine))
        item.addItem(ideal)
        if self._physical:
            # A line item, not an InfiniteLine with a label: the key above the
            # plot names it, so no label is ever clipped at the plot's edge.
            cores = pg.PlotDataItem([self._physical] * 2, [0, top_speed * 1.1],
                                    pen=pg.mkPen("#8c919a", width=1, style=Qt.PenStyle.DashLine))
            item.addItem(cores)
        for k, (backend, points) in enumerate(sorted(self._series.items())):
            color = QColor(family_color(backend))
            line = pg.PlotDataItem(
                [w for w, _ in points], [s for _, s in points], pen=pg.mkPen(color, width=2),
                symbol=self._SYMBOLS[k % len(self._SYMBOLS)], symbolBrush=color, symbolPen=None, symbolSize=8,
            )
            item.addItem(line)
        item.getAxis("bottom").setTicks([[(w, str(w)) for w in sorted(set(workers) | {self._physical} - {0})]])
        item.setXRange(0.5, top + 0.5, padding=0.02)
        item.setYRange(0, top_speed * 1.1, padding=0)

    def on_palette_changed(self) -> None:
        if getattr(self, "_drawn", False):
            self._draw()
