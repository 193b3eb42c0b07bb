"""Short texts at data points, all drawn by one plot item.

    chart.set_configs ─► ValueLabels.setData(xs, ys, texts) ─► one paint: every text beside its point

What a ``pg.TextItem`` per point would show (a bar's value at its end), in one
item, as pyqtgraph draws many points with one ``ScatterPlotItem``: a
``TextItem`` cost ~0.2 ms to make and add (10-18 ms for the 48 bars of a first
live draw, its largest part), carries a ``QTextDocument`` to lay out and paint,
and has to be moved one by one each round.  The texts keep their size in pixels
whatever the view's scale, left-aligned a few pixels right of their point and
centred on it vertically.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter


class ValueLabels(pg.GraphicsObject):
    """Texts at data points; ``setData`` replaces them all, ``setColor`` restyles them."""

    def __init__(self, color: QColor, font: QFont, gap_px: float = 4.0) -> None:
        super().__init__()
        self._xs = np.zeros(0)
        self._ys = np.zeros(0)
        self._texts: list[str] = []
        self._color = QColor(color)
        self._font = QFont(font)
        self._metrics = QFontMetricsF(self._font)
        self._gap = gap_px
        self._widest = 0.0

    def setData(self, xs: ArrayLike, ys: ArrayLike, texts: Sequence[str]) -> None:
        new_xs, new_ys, new_texts = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), list(texts)
        if new_texts == self._texts and np.array_equal(new_xs, self._xs) and np.array_equal(new_ys, self._ys):
            return  # nothing moved: no repaint
        self.prepareGeometryChange()
        self._xs, self._ys, self._texts = new_xs, new_ys, new_texts
        self._widest = max((self._metrics.horizontalAdvance(t) for t in new_texts), default=0.0)
        self.update()

    def setColor(self, color: QColor) -> None:
        self._color = QColor(color)
        self.update()

    def color(self) -> QColor:
        return QColor(self._color)

    def texts(self) -> list[str]:
        return list(self._texts)

    def points(self) -> list[tuple[float, float]]:
        return [(float(x), float(y)) for x, y in zip(self._xs, self._ys)]

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: object = None) -> None:
        return None  # labels never widen the view's auto-range

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # the texts' extent in data units follows the scale

    def boundingRect(self) -> QRectF:
        if not self._texts:
            return QRectF()
        px_w, px_h = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        half = self._metrics.height() / 2 * px_h
        x0, x1 = float(self._xs.min()), float(self._xs.max())
        y0, y1 = float(self._ys.min()), float(self._ys.max())
        return QRectF(x0, y0 - half, x1 - x0 + (self._gap + self._widest + 2) * px_w, y1 - y0 + 2 * half)

    def paint(self, painter: QPainter, *args: object) -> None:
        if not self._texts:
            return
        to_device = painter.transform()
        painter.resetTransform()  # in pixels from here: the texts do not scale with the view
        painter.setFont(self._font)
        painter.setPen(self._color)
        baseline = (self._metrics.ascent() - self._metrics.descent()) / 2
        for x, y, text in zip(self._xs, self._ys, self._texts):
            at = to_device.map(QPointF(x, y))
            painter.drawText(QPointF(at.x() + self._gap, at.y() + baseline), text)
