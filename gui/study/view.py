"""A study, shown: the bar chart, the verdict, the table and the scaling chart.

    StudyModel ─► SpeedupChart, StudyTableModel, ScalingChart (when workers varied), VerdictPanel

Used live by the Compare workspace and again by History for a study reopened.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QTableView, QVBoxLayout, QWidget

from poolside.study import ConfigResult, StudyResult

from ..widgets.group import group
from .charts import ScalingChart, SpeedupChart, legend_html
from .details import ConfigDialog
from .model import StudyModel, StudyTableModel
from .verdict import VerdictPanel


class StudyView(QWidget):
    """Everything about one study, fed by a :class:`StudyModel`."""

    REDRAW_MS = 250
    #: The Verdict's **Use these settings** (the recommended configuration).
    useSettings = Signal(object)
    #: A configuration was opened (its ConfigResult).
    configOpened = Signal(object)
    #: The Verdict's **Copy as code** (the recommended configuration).
    copyCode = Signal(object)

    def __init__(self, study: StudyModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self.chart = SpeedupChart(self)
        self.chart.setAccessibleName("Speed-up chart")
        self.legend = QLabel(self)
        self.legend.setProperty("role", "hint")
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scaling = ScalingChart(self)
        self.scaling.setAccessibleName("Scaling chart")
        self.scaling_legend = QLabel(self)
        self.scaling_legend.setProperty("role", "hint")
        self.scaling_legend.setWordWrap(True)
        self.verdict = VerdictPanel(self)
        self.table_model = StudyTableModel(study, self)
        self.table = QTableView(self)
        self.table.setModel(self.table_model)
        self.table.setAccessibleName("Study results")
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        # Every column fits its contents, but not by ResizeToContents: that
        # measures every cell of the table at each dataChanged, however small
        # (1,344 data() calls for 24 rows, on every live round). Measured instead:
        # all cells when rows come or go, the changed rows' cells when numbers change.
        # The spare width goes to the last column: a stretched first column shrank
        # the configuration's label to nothing in a narrow window (1024x768).
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        self.table_model.modelReset.connect(self._fit_columns)
        self.table_model.rowsInserted.connect(lambda _parent, first, last: self._widen_columns(first, last))
        self.table_model.dataChanged.connect(lambda top, bottom, *_: self._widen_columns(top.row(), bottom.row()))
        self.table.setToolTip("Double-click a configuration to see its insights and timeline.")
        self.table.doubleClicked.connect(lambda index: self.open_config(self.table_model.config(index.row())))
        self.chart.configActivated.connect(self.open_config)
        self.chart.setToolTip("One bar per configuration; click a bar to see its insights and timeline.")
        self.verdict.useSettings.connect(self.useSettings)
        self.verdict.copyCode.connect(self.copyCode)
        self._lay_out()
        # Results can come in bursts: the charts redraw in the event-loop turn after a
        # change (so they agree with the table, which changes at once), and then at most
        # every REDRAW_MS while changes keep coming: a redraw and repaint of 24-48
        # configurations costs ~7 ms of the GUI thread and another ~10 ms of pyqtgraph's
        # deferred layout and painting; at the study's end at once.
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self._redraw)
        self._since_redraw = QElapsedTimer()
        study.configsChanged.connect(self._schedule_redraw)
        study.finished.connect(self._on_finished)
        study.cleared.connect(self.verdict.clear)
        self._redraw()

    def _lay_out(self) -> None:
        """The verdict first, across the top; the charts side by side; the numbers below (eight columns)."""
        chart_area = QWidget()
        chart_lay = QVBoxLayout(chart_area)
        chart_lay.setContentsMargins(0, 0, 0, 0)
        chart_lay.setSpacing(2)
        chart_lay.addWidget(self.legend)
        chart_lay.addWidget(self.chart, 1)
        scaling_area = QWidget()
        scaling_lay = QVBoxLayout(scaling_area)
        scaling_lay.setContentsMargins(0, 0, 0, 0)
        scaling_lay.setSpacing(2)
        scaling_lay.addWidget(self.scaling_legend)
        scaling_lay.addWidget(self.scaling, 1)
        self.scaling_box = group("Scaling with workers", scaling_area, stretch=True)
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(group("Speed-up per configuration", chart_area, stretch=True))
        self.top.addWidget(self.scaling_box)
        self.top.setStretchFactor(0, 3)
        self.top.setStretchFactor(1, 2)
        self.top.setSizes([560, 360])
        self.top.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.top)
        split.addWidget(group("Numbers", self.table, stretch=True))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([380, 220])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(group("Verdict", self.verdict))
        lay.addWidget(split, 1)

    def _fit_columns(self) -> None:
        for column in range(self.table_model.columnCount()):
            self.table.resizeColumnToContents(column)

    def _widen_columns(self, first: int, last: int) -> None:
        """Widen a column that these rows' cells no longer fit (never narrowed while a study runs).

        Only each column's widest text is sized by the delegate: sizing every
        changed cell cost 6.5 ms a round of 48 configurations, more than
        ResizeToContents did.
        """
        model, header, metrics = self.table_model, self.table.horizontalHeader(), self.table.fontMetrics()
        for column in range(model.columnCount()):
            cells = [model.index(row, column) for row in range(first, last + 1)]
            widest = max(cells, key=lambda index: metrics.horizontalAdvance(str(index.data() or "")))
            need = self.table.sizeHintForIndex(widest).width() + int(self.table.showGrid())
            if need > header.sectionSize(column):
                header.resizeSection(column, need)

    def _schedule_redraw(self) -> None:
        """Redraw in the next event-loop turn, or REDRAW_MS after the last redraw if that is later.

        Never in this turn: the change that calls it was just read (unpickled) and
        tabled in it, 20-30 ms for a round of 24 configurations with their timelines.
        """
        if self._redraw_timer.isActive():  # a throttle, not a debounce: a steady stream still draws
            return
        since = self._since_redraw.elapsed() if self._since_redraw.isValid() else self.REDRAW_MS
        self._redraw_timer.start(max(0, self.REDRAW_MS - since))

    def _redraw(self) -> None:
        configs = self.study.configs()
        if configs:
            self._since_redraw.start()
        else:
            self._since_redraw.invalidate()  # an empty chart holds back no study's first bars
        record = self.study.record
        rec = record.recommendation if record is not None else None
        self.chart.set_configs(configs, highlight=rec.config if rec is not None else None)
        self.legend.setText(legend_html(self.chart.families()) if configs else "")
        self.scaling.set_configs(configs, self.study.physical_cores())
        self.scaling_legend.setText(self.scaling.legend_html())
        self.scaling_box.setVisible(bool(self.scaling.series))

    def _on_finished(self, record: StudyResult | None) -> None:
        self._redraw_timer.stop()
        self._redraw()
        if record is None or record.cancelled:
            self.verdict.clear("The study was cancelled: no verdict.")
        else:
            self.verdict.show_study(record)

    def offer_code(self, offer: bool) -> None:
        """Offer **Copy as code** in the verdict (the owner knows the job and answers ``copyCode``)."""
        self.verdict.offer_code(offer)

    def open_config(self, config: ConfigResult, *, show: bool = True) -> ConfigDialog:
        dialog = ConfigDialog(config, self)
        self.configOpened.emit(config)
        if show:
            dialog.show()
        return dialog
