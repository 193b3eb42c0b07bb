"""A pyqtgraph plot that takes its colours from the Qt palette.

Light or dark, the plot's background is the palette's base colour and its axes
use the text colour, and both follow a palette change at run time.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette


class PalettePlot(pg.PlotWidget):
    """A ``PlotWidget`` styled from the palette, with no mouse menu clutter."""

    def __init__(self, parent=None, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=False, y=True, alpha=0.18)
        self.setMinimumHeight(120)
        self._apply_palette()

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
        self.on_palette_changed()

    def on_palette_changed(self) -> None:
        """Subclasses restyle their own items here."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "plotItem", None) is not None:
            self._apply_palette()
        super().changeEvent(event)
