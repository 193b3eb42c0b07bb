"""The history list: one row per run or study, newest first, filterable by plugin."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from poolside.words.runs import run_state
from poolside.words.units import when

from .api import HistoryReader, entry_summary

_HEADERS = ("When", "Kind", "Task", "What", "Status")
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class HistoryModel(QAbstractTableModel):
    """Entries from a :class:`HistoryReader`; ``refresh`` reads them again."""

    EntryRole = Qt.ItemDataRole.UserRole.value + 1

    def __init__(self, reader: HistoryReader | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._entries: list[dict[str, Any]] = []
        self._plugin: str | None = None

    @property
    def available(self) -> bool:
        return self._reader is not None

    def plugins(self) -> list[str]:
        """Every plugin in the history (for the filter), whatever the filter now."""
        if self._reader is None:
            return []
        return sorted({str(e.get("plugin", "")) for e in self._reader.list_entries()} - {""})

    def set_plugin(self, plugin: str | None) -> None:
        self._plugin = plugin or None
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        entries = [] if self._reader is None else self._reader.list_entries(self._plugin)
        self._entries = sorted(entries, key=lambda e: -float(e.get("started") or 0))
        self.endResetModel()

    def entry(self, row: int) -> dict[str, Any]:
        return self._entries[row]

    def row_of(self, entry_id: str) -> int:
        return next((i for i, e in enumerate(self._entries) if e.get("id") == entry_id), -1)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self._entries[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (when(e.get("started")), str(e.get("kind", "")), str(e.get("plugin", "")),
                    entry_summary(e), run_state(e.get("status", "")).label)[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return run_state(e.get("status", "")).meaning or None
        if role == Qt.ItemDataRole.ToolTipRole and col in (2, 3):  # the whole of an elided cell
            return self.data(index) or None
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            from PySide6.QtGui import QColor

            color = run_state(e.get("status", "")).color
            return QColor(color) if color else None
        if role == self.EntryRole:
            return e
        return None
