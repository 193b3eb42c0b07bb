"""Streamed outcomes as a table, and the sorting/filtering proxy over it.

The model keeps the engine's :class:`~poolside.Outcome` tuples as they are and
formats cells only when the view asks for them (a few dozen visible rows), so
appending a batch costs a list ``extend`` and a scan for new value fields.

Columns: status, item, one per field of the values (when values are dicts;
one "value" column otherwise), time, worker.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)

from poolside.records import STATUS_ORDER, Status
from poolside.words import units as fmt

from ...theme import row_tint, status_icon

if TYPE_CHECKING:
    from poolside.records import Outcome

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)

#: The raw value a column sorts by (numbers stay numbers).
SortRole = Qt.ItemDataRole.UserRole.value + 10
#: The status as its plain string (``"ok"``, ``"failed"``…), for filtering.
StatusRole = Qt.ItemDataRole.UserRole.value + 11
#: The whole :class:`~poolside.Outcome` of the row.
OutcomeRole = Qt.ItemDataRole.UserRole.value + 12
#: All of a row's text in one string (item, status, values, error), for the text filter.
SearchRole = Qt.ItemDataRole.UserRole.value + 13

_ROLES = frozenset(
    {_DISPLAY, _DECORATION, _TOOLTIP, _BACKGROUND, _ALIGN, SortRole, StatusRole, OutcomeRole, SearchRole}
)

#: Problems sort first: core's order (poolside.records.STATUS_ORDER) with ok moved to the end.
_STATUS_ORDER = {
    status.value: rank
    for rank, status in enumerate(sorted(STATUS_ORDER, key=lambda s: s is Status.OK))
}

#: Name of the single value column used when values are not dicts.
SCALAR_KEY = "value"


def item_text(item: Any) -> str:
    return item if isinstance(item, str) else str(item)


def shown_root(paths: list[str]) -> str:
    """The folder to show paths relative to: the parent of their common folder."""
    if not paths:
        return ""
    try:
        common = os.path.commonpath(paths)
    except ValueError:  # mixed drives or relative and absolute
        return ""
    if common in paths:  # a single file
        common = os.path.dirname(common)
    return os.path.dirname(common.rstrip(os.sep)) or ""


class ResultsModel(QAbstractTableModel):
    """One row per outcome, in arrival order."""

    STATUS, ITEM = 0, 1

    def __init__(self, parent=None, *, freeze_gc: bool = False) -> None:
        super().__init__(parent)
        self._rows: list = []  # arrival order, always
        #: Presentation order while sorted: arrival indexes (``None``: arrival order).
        self._order: list[int] | None = None
        self._sort_field: Any = None  # what is sorted by (survives column inserts)
        self._sort_desc = False
        self._sort_keys: list = []  # one key per arrival index, while sorted
        self._merge_timer = QTimer(self)
        self._merge_timer.setSingleShot(True)
        self._merge_timer.setInterval(250)
        self._merge_timer.timeout.connect(self._merge)
        self._keys: list[str] = []  # value columns, in order of first appearance
        self._key_set: set[str] = set()
        #: Keep the outcomes out of the cyclic GC's full passes (see ``append``).
        self.freeze_gc = freeze_gc
        self._root = ""  # shown items that are paths under it drop this prefix

    def set_item_root(self, root: str) -> None:
        """Show path items relative to ``root`` (the full path stays in the tooltip)."""
        root = root.rstrip(os.sep)
        self._root = root + os.sep if root else ""
        if self._rows:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._rows) - 1, 1))

    def _shown_item(self, item: Any) -> str:
        text = item if isinstance(item, str) else str(item)
        root = self._root
        if root and text.startswith(root):
            return text[len(root):]
        return text

    # -- columns ------------------------------------------------------------
    @property
    def value_keys(self) -> list[str]:
        return list(self._keys)

    def column_names(self) -> list[str]:
        return ["Status", "Item", *self._keys, "Time", "Worker"]

    @property
    def time_column(self) -> int:
        return 2 + len(self._keys)

    @property
    def worker_column(self) -> int:
        return 3 + len(self._keys)

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else 4 + len(self._keys)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY):
        if orientation == Qt.Orientation.Horizontal:
            if role == _DISPLAY:
                return self.column_names()[section]
            if role == _TOOLTIP and 2 <= section < 2 + len(self._keys):
                return f"The task's value field “{self._keys[section - 2]}”"
        return None

    def multiData(self, index: _Index, span) -> None:
        """All the roles a delegate asks for, in one call into Python per cell."""
        o = self._row(index.row())
        col = index.column()
        for i in range(len(span)):
            rd = span[i]
            role = rd.role()
            if role in _ROLES:
                rd.setData(self._data(o, col, role))
            else:
                rd.clearData()

    def data(self, index: _Index, role: int = _DISPLAY):
        if role not in _ROLES:
            return None
        return self._data(self._row(index.row()), index.column(), role)

    def _data(self, o: Outcome, col: int, role: int) -> Any:
        nkeys = len(self._keys)
        if role == _DISPLAY:
            if col == 0:
                return fmt.status_label(o.status)
            if col == 1:
                return self._shown_item(o.item)
            if col < 2 + nkeys:
                return fmt.cell(self._field(o.value, col - 2))
            if col == 2 + nkeys:
                return "" if o.worker is None and not o.elapsed_s else fmt.human_duration(o.elapsed_s)
            return "" if o.worker is None else str(o.worker)
        if role == _BACKGROUND:
            return row_tint(o.status)
        if role == _DECORATION:
            return status_icon(str(o.status)) if col == 0 else None
        if role == _ALIGN:
            if col >= 2 + nkeys:
                return _RIGHT
            if col >= 2 and isinstance(self._field(o.value, col - 2), (int, float)):
                return _RIGHT
            return None
        if role == _TOOLTIP:
            if col <= 1:
                text = item_text(o.item)
                return f"{text}\n{o.error}" if o.error is not None else text
            if col < 2 + nkeys:
                v = self._field(o.value, col - 2)
                return fmt.cell(v, limit=2000) if v is not None else None
            return None
        if role == SortRole:
            if col == 0:
                return _STATUS_ORDER.get(str(o.status), 9)
            if col == 1:
                return self._shown_item(o.item)
            if col < 2 + nkeys:
                v = self._field(o.value, col - 2)
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    return "" if v is None else fmt.cell(v)
                return float(v)
            if col == 2 + nkeys:
                return float(o.elapsed_s)
            return -1 if o.worker is None else o.worker
        if role == StatusRole:
            return str(o.status)
        if role == OutcomeRole:
            return o
        if role == SearchRole:
            parts = [self._shown_item(o.item), fmt.status_label(o.status)]
            v = o.value
            if type(v) is dict:
                parts.extend(map(fmt.cell, v.values()))
            elif v is not None:
                parts.append(fmt.cell(v))
            if o.error is not None:
                parts.append(str(o.error))
            return "\t".join(parts)
        return None

    def _field(self, value: Any, k: int) -> Any:
        key = self._keys[k]
        if type(value) is dict:
            return value.get(key)
        if key == SCALAR_KEY and value is not None:
            return value
        return None

    # -- contents -----------------------------------------------------------
    def _row(self, row: int):
        return self._rows[row] if self._order is None else self._rows[self._order[row]]

    def outcome(self, row: int):
        """The outcome shown at ``row`` (sorted or not)."""
        return self._row(row)

    def outcomes(self) -> list:
        """Every outcome, in arrival order."""
        return list(self._rows)

    def shown_outcomes(self) -> list:
        """Every outcome, in the order the rows are shown."""
        if self._order is None:
            return list(self._rows)
        rows = self._rows
        return [rows[i] for i in self._order]

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, batch: Sequence) -> None:
        """Append a batch of outcomes: at most one column insert and one row insert.

        While sorted, the batch lands at the bottom and is merged into place by
        a timer a moment later, so a fast stream costs one merge per interval
        rather than one per batch.
        """
        if not batch:
            return
        self._add_keys(batch)
        first = len(self._rows)
        self.beginInsertRows(_ROOT, first, first + len(batch) - 1)
        self._rows.extend(batch)
        if self._order is not None:
            self._order.extend(range(first, first + len(batch)))
            key = self._key_function(self._sort_field)
            self._sort_keys.extend(map(key, batch))
        self.endInsertRows()
        if self._order is not None and not self._merge_timer.isActive():
            self._merge_timer.start()
        if self.freeze_gc:
            # Hundreds of thousands of outcome tuples would make every full
            # cyclic-GC pass walk them all (~0.5 s a million rows, in the GUI
            # thread).  They hold no cycles, so park them where the collector
            # does not look; ``clear`` hands them back.
            gc.freeze()

    def clear(self) -> None:
        if self.freeze_gc:
            gc.unfreeze()
        self._merge_timer.stop()
        self.beginResetModel()
        self._rows = []
        self._keys = []
        self._key_set = set()
        if self._order is not None:
            self._order = []
            self._sort_keys = []
        self.endResetModel()

    # -- sorting ------------------------------------------------------------
    # Sorting lives here, not in the proxy: QSortFilterProxyModel compares rows
    # two data() calls at a time, which takes ~20 s for 200,000 rows of a
    # Python model.  Here one key per row is computed once and Python's sort
    # (in C) orders them: a fraction of a second, and a merge of new rows into
    # an already sorted order is close to linear.
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        field = self._field_of(column)
        self._merge_timer.stop()
        self.layoutAboutToBeChanged.emit()
        before = self._persistent_arrivals()
        if field is None:
            self._order = None
            self._sort_field = None
            self._sort_keys = []
        else:
            key = self._key_function(field)
            self._sort_field = field
            self._sort_desc = order == Qt.SortOrder.DescendingOrder
            self._sort_keys = list(map(key, self._rows))
            self._order = sorted(range(len(self._rows)), key=self._sort_keys.__getitem__, reverse=self._sort_desc)
        self._restore_persistent(before)
        self.layoutChanged.emit()

    @property
    def sort_column(self) -> int:
        """The column rows are sorted by, or -1."""
        field = self._sort_field
        if field is None:
            return -1
        if isinstance(field, tuple):
            return 2 + self._keys.index(field[1])
        return {"status": 0, "item": 1, "time": self.time_column, "worker": self.worker_column}[field]

    def _merge(self) -> None:
        if self._order is None:
            return
        self.layoutAboutToBeChanged.emit()
        before = self._persistent_arrivals()
        # Timsort finds the sorted run and the new tail and merges them.
        self._order.sort(key=self._sort_keys.__getitem__, reverse=self._sort_desc)
        self._restore_persistent(before)
        self.layoutChanged.emit()

    def _persistent_arrivals(self) -> list[tuple[Any, int, int]]:
        out = []
        for p in self.persistentIndexList():
            if p.isValid():
                arrival = p.row() if self._order is None else self._order[p.row()]
                out.append((p, arrival, p.column()))
        return out

    def _restore_persistent(self, before: list[tuple[Any, int, int]]) -> None:
        if not before:
            return
        if self._order is None:
            where = {a: a for _p, a, _c in before}
        else:
            wanted = {a for _p, a, _c in before}
            where = {a: i for i, a in enumerate(self._order) if a in wanted} if len(wanted) > 8 else {
                a: self._order.index(a) for a in wanted
            }
        old = [p for p, _a, _c in before]
        new = [self.index(where[a], c) for _p, a, c in before]
        self.changePersistentIndexList(old, new)

    def _field_of(self, column: int) -> Any:
        if column < 0 or column >= self.columnCount():
            return None
        if column == 0:
            return "status"
        if column == 1:
            return "item"
        if column < 2 + len(self._keys):
            return ("value", self._keys[column - 2])
        return "time" if column == self.time_column else "worker"

    def _key_function(self, field: Any):
        if field == "status":
            order = _STATUS_ORDER
            return lambda o: order.get(str(o.status), 9)
        if field == "item":
            shown = self._shown_item
            return lambda o: shown(o.item).lower()
        if field == "time":
            return lambda o: o.elapsed_s
        if field == "worker":
            return lambda o: -1 if o.worker is None else o.worker
        name = field[1]

        def value_key(o: Outcome) -> tuple:
            v = o.value
            if type(v) is dict:
                v = v.get(name)
            elif name != SCALAR_KEY:
                v = None
            if v is None:
                return (2, 0.0)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return (0, v)
            return (1, fmt.cell(v))

        return value_key

    def set_value_keys(self, keys: Iterable[str]) -> None:
        """Lay out value columns before the first result (a plugin's declared columns)."""
        new = [str(k) for k in keys if str(k) not in self._key_set]
        if new:
            first = 2 + len(self._keys)
            self.beginInsertColumns(_ROOT, first, first + len(new) - 1)
            self._keys.extend(new)
            self._key_set.update(new)
            self.endInsertColumns()

    def _add_keys(self, batch: Sequence) -> None:
        # The common cases stay in C: one value type, one set of dict keys.
        values = list(map(attrgetter("value"), batch))
        kinds = set(map(type, values))
        new: list[str] = []
        if kinds - {dict, type(None)} and SCALAR_KEY not in self._key_set:
            new.append(SCALAR_KEY)
        if dict in kinds:
            dicts = [v for v in values if type(v) is dict] if len(kinds) > 1 else values
            for keys in dict.fromkeys(map(tuple, dicts)):  # distinct key tuples, in order
                for k in keys:
                    k = str(k)
                    if k not in self._key_set and k not in new:
                        new.append(k)
        if new:
            self.set_value_keys(new)


class ResultsProxy(QSortFilterProxyModel):
    """Sorting, a status filter and a text filter over a :class:`ResultsModel`.

    Two chained Qt proxies, so with no filter and no sort column the mapping
    of appended rows stays in C++ and never calls back into Python per row.
    """

    def __init__(self, source: ResultsModel, parent=None) -> None:
        super().__init__(parent)
        self._status = QSortFilterProxyModel(self)
        self._status.setFilterRole(StatusRole)
        self._status.setFilterKeyColumn(0)
        self._status.setSourceModel(source)
        self.setSourceModel(self._status)
        self.setSortRole(SortRole)
        # One call per row for the text filter, not one per cell.
        self.setFilterKeyColumn(0)
        self.setFilterRole(SearchRole)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._statuses: frozenset[str] | None = None

    def multiData(self, index: _Index, span) -> None:
        # Qt's proxies answer multiData with one data() call per role; go
        # straight to the source so a painted cell costs one call into Python.
        source = self._status.mapToSource(self.mapToSource(index))
        self._status.sourceModel().multiData(source, span)

    @property
    def results(self) -> ResultsModel:
        return self._status.sourceModel()  # type: ignore[return-value]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is the source model's (fast, see ``ResultsModel.sort``); this proxy only filters."""
        self.results.sort(column, order)

    def set_statuses(self, statuses: Iterable[str] | None) -> None:
        """Show only rows whose status is in ``statuses`` (``None``: all rows)."""
        chosen = None if statuses is None else frozenset(str(s) for s in statuses)
        if chosen == self._statuses:
            return
        self._statuses = chosen
        if chosen is None:
            pattern = ""
        elif not chosen:
            pattern = "(?!)"  # matches nothing
        else:
            pattern = "^(" + "|".join(QRegularExpression.escape(s) for s in sorted(chosen)) + ")$"
        self._status.setFilterRegularExpression(QRegularExpression(pattern))

    def set_text(self, text: str) -> None:
        """Show only rows whose item, status, values or error contain ``text`` (any case)."""
        self.setFilterFixedString(text.strip())

    def outcome(self, row: int):
        return self.index(row, 0).data(OutcomeRole)

    def visible_outcomes(self) -> list:
        """The outcomes as the view shows them: filtered, in the current order."""
        rows = self.rowCount()
        if rows == self.results.rowCount():
            return self.results.shown_outcomes()
        return [self.index(r, 0).data(OutcomeRole) for r in range(rows)]
