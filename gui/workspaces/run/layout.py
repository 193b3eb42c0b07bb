"""How the Run workspace's panels are arranged: inputs on the left, what happens on the right.

    ┌ scroll ──────┐┌ right (vertical splitter) ──────────────────┐
    │ Files        ││ progress (Run, Cancel, Pause, Stop, bar)     │
    │              ││ Queue (while it has jobs)                    │
    │ Task         ││ Results                                      │
    │ Backend      │├ plots (horizontal splitter) ─────────────────┤
    │              ││ Cores          │ Worker timeline             │
    └──────────────┘└──────────────────────────────────────────────┘
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from ...widgets.group import group
from ...widgets.timeline import NAVIGATION_HELP, legend_html


@dataclass
class RunLayout:
    """The splitters whose sizes the workspace remembers."""

    main: QSplitter
    right: QSplitter
    plots: QSplitter

    def _named(self) -> tuple[tuple[str, QSplitter], ...]:
        return (("run/main_split", self.main), ("run/right_split", self.right), ("run/plots_split", self.plots))

    def save(self, s: QSettings) -> None:
        for key, splitter in self._named():
            s.setValue(key, splitter.saveState())

    def restore(self, s: QSettings) -> None:
        restored = False
        for key, splitter in self._named():
            state = s.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                restored = splitter.restoreState(state) or restored
        if not restored:
            self.main.setSizes([400, 880])
            self.right.setSizes([450, 330])  # the CPU views need ~300 px to read


def _left(files: QWidget, task: QWidget, backend: QWidget) -> QScrollArea:
    left = QWidget()
    lay = QVBoxLayout(left)
    lay.setContentsMargins(0, 0, 4, 0)
    lay.setSpacing(8)
    files_box = group("Files", files, stretch=True)
    # Enough for the buttons, the filter and a few rows; past that the list takes what Task and Backend
    # leave.  Its preferred height is ignored because the scroll area sizes a column of wrapping labels
    # by preferred heights, not minimums: the list's own (~300 px) pushed Backend out of sight at 768 px.
    files_box.setMinimumHeight(160)
    files_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
    lay.addWidget(files_box, 1)
    lay.addWidget(group("Task", task))
    lay.addWidget(group("Backend", backend))
    scroll = QScrollArea()
    scroll.setWidget(left)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(340)
    return scroll


def _plots(cores: QWidget, timeline: QWidget) -> QSplitter:
    legend = QLabel(legend_html())
    legend.setProperty("role", "hint")
    legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    legend.setWordWrap(True)
    legend.setToolTip("Each bar is one item: when it ran and on which worker, coloured by status.")
    timeline.setToolTip(NAVIGATION_HELP)
    area = QWidget()
    lay = QVBoxLayout(area)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lay.addWidget(legend)
    lay.addWidget(timeline, 1)
    plots = QSplitter(Qt.Orientation.Horizontal)
    plots.addWidget(group("Cores", cores, stretch=True))
    plots.addWidget(group("Worker timeline", area, stretch=True))
    plots.setStretchFactor(0, 2)
    plots.setStretchFactor(1, 3)
    plots.setSizes([420, 440])
    plots.setChildrenCollapsible(False)
    return plots


def arrange(host: QWidget, *, files: QWidget, task: QWidget, backend: QWidget, cores: QWidget,
            progress: QWidget, queue: QWidget, results: QWidget, timeline: QWidget) -> RunLayout:
    """Lay the panels out inside ``host`` (``queue``: a titled section of its own, shown while it has jobs)."""
    top = QWidget()
    top_lay = QVBoxLayout(top)
    top_lay.setContentsMargins(4, 0, 0, 0)
    top_lay.setSpacing(8)
    top_lay.addWidget(progress)
    top_lay.addWidget(queue)
    top_lay.addWidget(group("Results", results, stretch=True), 1)

    plots = _plots(cores, timeline)
    right = QSplitter(Qt.Orientation.Vertical)
    right.addWidget(top)
    right.addWidget(plots)
    right.setStretchFactor(0, 3)
    right.setStretchFactor(1, 1)
    right.setChildrenCollapsible(False)

    main = QSplitter(Qt.Orientation.Horizontal)
    main.addWidget(_left(files, task, backend))
    main.addWidget(right)
    main.setStretchFactor(0, 0)
    main.setStretchFactor(1, 1)
    main.setChildrenCollapsible(False)

    lay = QVBoxLayout(host)
    lay.setContentsMargins(8, 8, 8, 4)
    lay.addWidget(main)
    return RunLayout(main, right, plots)
