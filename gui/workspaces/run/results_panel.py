"""The live results table: filters, the table itself and the details pane."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poolside.records import STATUS_ORDER, Status
from poolside.serialize import jsonable
from poolside.words import units as fmt

from .hint_view import HintTableView
from .results_model import ResultsModel, ResultsProxy, shown_root

#: (label, statuses shown or None for all)
_PROBLEMS = (Status.FAILED, Status.TIMED_OUT)
_PROBLEM_VALUES = tuple(s.value for s in _PROBLEMS)
STATUS_FILTERS: list[tuple[str, tuple[str, ...] | None]] = [
    ("All results", None),
    (f"Problems ({', '.join(s.label for s in _PROBLEMS)})", _PROBLEM_VALUES),
    *((status.label, (status.value,)) for status in STATUS_ORDER),
]


def _is_path_key(key: str) -> bool:
    return any(w in key.lower() for w in ("output", "path", "file", "dest"))


def describe(o: Any) -> str:
    """Everything about one outcome, as the details pane shows it."""
    lines = [
        f"item:    {o.item}",
        f"status:  {fmt.status_label(o.status)}",
        f"time:    {fmt.human_duration(o.elapsed_s)}"
        + (f"   started at {o.started_s:.3f} s" if o.started_s is not None else "")
        + (f"   on worker {o.worker}" if o.worker is not None else ""),
    ]
    if o.value is not None:
        try:
            value = json.dumps(o.value, indent=2, default=jsonable, ensure_ascii=False)
        except (TypeError, ValueError):
            value = repr(o.value)
        lines += ["", "value:", value]
    if o.error is not None:
        lines += ["", f"error:   {o.error}"]
        if o.error.traceback:
            lines += ["", o.error.traceback.rstrip()]
    return "\n".join(lines)


class WindowMenu(QMenu):
    """A menu that opens inside its window: a button at the window's right edge would
    otherwise drop it past the edge (Qt keeps menus on the screen, not in the window)."""

    def showEvent(self, event) -> None:
        super().showEvent(event)
        parent = self.parentWidget()
        if parent is None:
            return
        window = parent.window()
        right = window.mapToGlobal(window.rect().topRight()).x()
        geo = self.geometry()
        if geo.right() > right:
            self.move(max(window.mapToGlobal(window.rect().topLeft()).x(), right - geo.width()), geo.y())


class ResultsPanel(QWidget):
    """Streamed results with a status filter, a text filter and a details pane."""

    #: The outcome now selected (or ``None``).
    selectionChanged = Signal(object)
    #: Rows were added or the table was emptied.
    rowsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ResultsModel(self, freeze_gc=True)
        self.model.modelReset.connect(lambda: self.rowsChanged.emit())
        self.model.rowsInserted.connect(lambda *_: self.rowsChanged.emit())
        self.proxy = ResultsProxy(self.model, self)

        self.status_filter = QComboBox(self)
        for label, statuses in STATUS_FILTERS:
            self.status_filter.addItem(label, statuses)
        self.status_filter.setToolTip("Show only results with these statuses")
        self.status_filter.setAccessibleName("Show results")
        self.status_filter.currentIndexChanged.connect(self._apply_status)

        self.text_filter = QLineEdit(self)
        self.text_filter.setPlaceholderText("Filter by any text…")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setAccessibleName("Filter results")
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(200)
        self._text_timer.timeout.connect(lambda: self.proxy.set_text(self.text_filter.text()))
        self.text_filter.textChanged.connect(self._text_timer.start)

        self.shown = QLabel(self)
        self.shown.setProperty("role", "hint")

        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.status_filter)
        top.addWidget(self.text_filter, 1)
        top.addWidget(self.shown)
        top.addWidget(self.export_button)

        self.view = HintTableView("Results stream in here when you press Run.", self)
        self.view.setModel(self.proxy)
        self.view.setAccessibleName("Results")
        hh = self.view.horizontalHeader()
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        hh.setSortIndicatorClearable(True)
        self.view.setSortingEnabled(True)
        hh.setDefaultSectionSize(110)
        hh.setMinimumSectionSize(40)
        hh.setStretchLastSection(False)
        self._sizing = False
        self._user_sized = False
        self._size_columns()
        hh.sectionResized.connect(self._on_section_resized)
        self.view.viewport().installEventFilter(self)
        self.model.columnsInserted.connect(self._size_columns)
        self.model.modelReset.connect(self._size_columns)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        proxy = self.proxy
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset, proxy.layoutChanged):
            signal.connect(self._update_shown)

        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Result details")
        self.details.setObjectName("details")
        self.details.setPlaceholderText("Select a result to see its value, error and traceback here.")
        self.details.setMinimumHeight(self.fontMetrics().height() * 3)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        # Details below the table: the table keeps the full width for its
        # columns, and tracebacks get long lines.
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 110])
        self.splitter.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.splitter, 1)
        self._update_shown()

    # -- contents -----------------------------------------------------------
    def append(self, batch: list) -> None:
        self.model.append(batch)

    def clear(self) -> None:
        self.details.clear()
        self.model.clear()

    def prepare(self, items: list, columns: tuple[str, ...] = ()) -> None:
        """Empty the table for a run over ``items`` whose values have ``columns``."""
        self.clear()
        self.model.set_item_root(shown_root(items) if items and isinstance(items[0], str) else "")
        self.model.set_value_keys(columns)

    def row_count(self) -> int:
        return len(self.model)

    def value_keys(self) -> list[str]:
        return self.model.value_keys

    def visible_outcomes(self) -> list:
        """The outcomes the table shows (filtered, in its order)."""
        return self.proxy.visible_outcomes()

    def set_export_menu(self, menu: Any) -> None:
        self.export_button.setMenu(menu)

    def set_export_enabled(self, enabled: bool) -> None:
        self.export_button.setEnabled(enabled)

    def select_first(self, statuses: tuple[str, ...] = _PROBLEM_VALUES) -> bool:
        """Select the first visible row with one of ``statuses``; True if found."""
        for row in range(self.proxy.rowCount()):
            if str(self.proxy.outcome(row).status) in statuses:
                self.view.selectRow(row)
                self.view.scrollTo(self.proxy.index(row, 0))
                return True
        return False

    def current_outcome(self) -> Any | None:
        index = self.view.currentIndex()
        return self.proxy.outcome(index.row()) if index.isValid() else None

    # -- slots --------------------------------------------------------------
    def _apply_status(self, _index: int) -> None:
        self.proxy.set_statuses(self.status_filter.currentData())
        self._update_shown()

    def _on_current(self, current, _previous) -> None:
        o = self.proxy.outcome(current.row()) if current.isValid() else None
        self.details.setPlainText(describe(o) if o is not None else "")
        self.selectionChanged.emit(o)

    def _update_shown(self, *_args) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if total == 0:
            self.shown.setText("")
        elif shown == total:
            self.shown.setText(f"{fmt.count(total)} results")
        else:
            self.shown.setText(f"{fmt.count(shown)} of {fmt.count(total)} shown")

    def _size_columns(self, *_args) -> None:
        """Fixed columns fit their content; value columns share what the item leaves.

        Never sized to contents (that would visit every row): widths come from
        font metrics and the view's width.  The user may resize any column.
        """
        self._sizing = True
        try:
            self._apply_column_sizes()
        finally:
            self._sizing = False

    def _apply_column_sizes(self) -> None:
        hh = self.view.horizontalHeader()
        fm = self.fontMetrics()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        status_w = fm.horizontalAdvance("● timed out") + 28
        time_w = fm.horizontalAdvance("999.9 ms") + 24
        worker_w = fm.horizontalAdvance("Worker") + 24
        hh.resizeSection(ResultsModel.STATUS, status_w)
        hh.resizeSection(self.model.time_column, time_w)
        hh.resizeSection(self.model.worker_column, worker_w)
        keys = self.model.value_keys
        # Everything fits the viewport as it will be once rows arrive (a vertical scroll bar
        # takes its width), so the Worker column is never pushed behind a horizontal scroll bar.
        bar = self.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width = self.view.viewport().width() - (0 if self.view.verticalScrollBar().isVisible() else bar)
        room = max(300, width - 2) - status_w - time_w - worker_w
        if not keys:
            hh.resizeSection(ResultsModel.ITEM, max(fm.horizontalAdvance("x" * 16), room))
            hh.setStretchLastSection(False)
            return
        # Path-like values (an output file) get two shares: elided to "/tmp…t.gz" they say nothing.
        weights = [2 if _is_path_key(k) else 1 for k in keys]
        mins = [max(fm.horizontalAdvance("0000000") + 16, fm.horizontalAdvance(k) + 24) for k in keys]
        item_w = max(fm.horizontalAdvance("x" * 16), int(room * 0.34))
        share = max(0, room - item_w) / sum(weights)
        widths = [max(m, int(share * w)) for m, w in zip(mins, weights)]
        item_w = max(fm.horizontalAdvance("x" * 12), room - sum(widths))
        hh.resizeSection(ResultsModel.ITEM, item_w)
        for k, w in enumerate(widths):
            hh.resizeSection(2 + k, w)
        hh.setStretchLastSection(False)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize and not self._user_sized:
            self._size_columns()
        return False

    def _on_section_resized(self, *_args) -> None:
        if not self._sizing:
            self._user_sized = True  # the user's widths win from now on
