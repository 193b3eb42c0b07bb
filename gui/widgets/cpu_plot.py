"""Per-core CPU use, sampled with ``psutil.cpu_percent(percpu=True)`` on a timer.

One bar per logical core, all in a single ``BarGraphItem`` updated in place
from a numpy array, so a sample costs the same for 2 cores or 256.
"""

from __future__ import annotations

import numpy as np
import psutil
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor

from ..theme import ACCENT
from .plot_base import PalettePlot


class CpuPlot(PalettePlot):
    """Bars: each core's use now (0–100 %).  ``sampled(mean %)`` after each sample."""

    sampled = Signal(float)

    def __init__(self, parent=None, *, interval_ms: int = 700) -> None:
        super().__init__(parent)
        self._n = len(psutil.cpu_percent(percpu=True)) or 1  # also primes psutil
        self._x = np.arange(self._n, dtype=float)
        self._heights = np.zeros(self._n)
        item = self.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setYRange(0, 104, padding=0)  # headroom keeps the "100" tick label visible
        item.setXRange(-0.6, self._n - 0.4, padding=0)
        left = item.getAxis("left")
        left.setTicks([[(0, "0"), (50, "50"), (100, "100")]])
        left.setStyle(hideOverlappingLabels=False)
        item.setLabel("left", "%")
        step = max(1, self._n // 16)
        item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(0, self._n, step)], []])
        item.setLabel("bottom", "core")
        self._bars = pg.BarGraphItem(x=self._x, height=self._heights, width=0.7, pen=None, brush=QColor(ACCENT))
        item.addItem(self._bars)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.sample)
        self._timer.start()

    @property
    def cores(self) -> int:
        return self._n

    def sample(self) -> None:
        values = psutil.cpu_percent(percpu=True)
        if len(values) != self._n:  # a core went offline or came back
            return
        self.set_values(values)

    def set_values(self, values) -> None:
        self._heights = np.asarray(values, dtype=float)
        self._bars.setOpts(height=self._heights)
        self.sampled.emit(float(self._heights.mean()))

    def stop(self) -> None:
        self._timer.stop()
