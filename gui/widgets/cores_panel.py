"""The machine's cores, plainly: counts, CPU model, memory, and their live use."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from poolside.system import system_info

from ..format import human_bytes
from .cpu_plot import CpuPlot


def cores_text(info=None) -> str:
    info = info or system_info()
    parts = [f"{info.logical_cores} logical cores", f"{info.physical_cores} physical"]
    if info.usable_cores != info.logical_cores:
        parts.append(f"{info.usable_cores} usable by Poolside")
    return " · ".join(parts)


class CoresPanel(QWidget):
    """Core counts and CPU model above a per-core CPU use plot."""

    def __init__(self, parent: QWidget | None = None, *, interval_ms: int = 700) -> None:
        super().__init__(parent)
        info = system_info()
        self.counts = QLabel(cores_text(info))
        self.counts.setObjectName("coresCounts")
        self.model = QLabel(f"{info.cpu_model} · {human_bytes(info.memory_bytes)} RAM · {info.platform}")
        self.model.setProperty("role", "hint")
        self.model.setWordWrap(True)
        self.model.setToolTip(self.model.text())
        self.plot = CpuPlot(self, interval_ms=interval_ms)
        self._counts_text = self.counts.text()
        self.plot.sampled.connect(self._on_sample)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.counts)
        lay.addWidget(self.model)
        lay.addWidget(self.plot, 1)

    def _on_sample(self, mean: float) -> None:
        self.counts.setText(f"{self._counts_text} · {mean:.0f} % busy")

    def stop(self) -> None:
        """Stop sampling the cores (the window is closing)."""
        self.plot.stop()
