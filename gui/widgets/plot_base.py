"""A pyqtgraph plot that takes its colours from the Qt palette.

Light or dark, the plot's background is the palette's base colour and its axes
use the text colour, and both follow a palette change at run time.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette, QPen


class PalettePlot(pg.PlotWidget):
    """A ``PlotWidget`` styled from the palette, with no mouse menu clutter."""

    def __init__(self, parent=None, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=False, y=True, alpha=0.18)
        item.layout.setContentsMargins(2, 8, 8, 2)  # room for the top tick label and the last x label
        self.setMinimumHeight(120)
        self._apply_palette()

    def set_y_ticks(self, ticks: list[tuple[float, str]], top: float) -> None:
        """A fixed y axis from 0 to ``top`` whose end labels are always drawn.

        pyqtgraph drops a tick label that pokes out of the axis' bounding rect,
        and with the y grid on that rect has no margin, so "0" and "100" vanish
        at small heights; the grid is off and faint reference lines stand in.
        """
        if getattr(self, "_y_ticks", None) == (ticks, top):
            return  # unchanged: re-adding the lines and ticks would re-lay the plot out every redraw
        self._y_ticks = (list(ticks), top)
        item = self.getPlotItem()
        item.showGrid(y=False)
        item.setYRange(0, top, padding=0)
        left = item.getAxis("left")
        left.setTicks([ticks, []])
        left.setStyle(hideOverlappingLabels=False)
        lines = getattr(self, "_ref_lines", [])
        for line in lines:
            item.removeItem(line)
        self._ref_lines = []
        for value, _ in ticks:
            if value > 0:
                line = pg.InfiniteLine(pos=value, angle=0, pen=self._ref_pen(), movable=False)
                line.setZValue(-10)
                item.addItem(line, ignoreBounds=True)
                self._ref_lines.append(line)

    def _ref_pen(self) -> QPen:
        fg = self.text_color()
        fg.setAlpha(45)
        return pg.mkPen(fg)

    def set_bottom_label(self, text: str) -> None:
        """The x axis's label, set only when it changes (each set re-lays the plot out)."""
        if getattr(self, "_bottom_label", None) != text:
            self._bottom_label = text
            self.getPlotItem().setLabel("bottom", text)

    def text_color(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.WindowText)

    def _apply_palette(self) -> None:
        pal = self.palette()
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        fg = pal.color(QPalette.ColorRole.WindowText)
        axis_pen = pg.mkPen(QColor(fg.red(), fg.green(), fg.blue(), 110))
        for name in ("left", "bottom"):
            ax = self.getPlotItem().getAxis(name)
            ax.setPen(axis_pen)
            ax.setTextPen(pg.mkPen(fg))
        for line in getattr(self, "_ref_lines", []):
            line.setPen(self._ref_pen())
        self.on_palette_changed()

    def on_palette_changed(self) -> None:
        """Subclasses restyle their own items here."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "plotItem", None) is not None:
            self._apply_palette()
        super().changeEvent(event)
