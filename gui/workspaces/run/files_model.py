"""The list of input files: paths, sizes, duplicates ignored.

A plain table model over two Python lists, so 100,000 files cost two lists
and a set, and the view only ever asks for the rows it shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from poolside.inputs import matcher
from poolside.words.units import human_bytes

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

#: Role for the absolute path of a row.
PathRole = Qt.ItemDataRole.UserRole + 1


class FilesModel(QAbstractTableModel):
    """Input files in the order they were added.

    Columns: the file as shown (relative to the folder it came from, or its
    name) and its size.  ``changed(count, total_bytes)`` follows every change.
    Files the current task does not accept (``set_accepts``) are hidden from
    the rows and from ``paths()``, never dropped: another task may accept
    them, and they come back in their place.
    """

    changed = Signal(int, object)  # object: totals pass 2 GiB

    COLUMNS = ("File", "Size")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._paths: list[str] = []
        self._shown: list[str] = []
        self._sizes: list[int] = []
        self._seen: set[str] = set()
        self._total = 0
        self._accepts: tuple[str, ...] = ()
        self._accepted = matcher(())
        #: Files hidden because the task does not accept them: (order, path, shown, size).
        self._hidden: list[tuple[int, str, str, int]] = []
        self._order: list[int] = []  # each visible row's place in the order files were added
        self._next = 0

    # -- Qt model API -------------------------------------------------------
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._paths)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._shown[row] if col == 0 else human_bytes(self._sizes[row])
        if role == Qt.ItemDataRole.ToolTipRole or role == PathRole:
            return self._paths[row]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- contents -----------------------------------------------------------
    @property
    def total_bytes(self) -> int:
        return self._total

    def paths(self) -> list[str]:
        """The absolute paths, in order (a copy)."""
        return list(self._paths)

    def path(self, row: int) -> str:
        return self._paths[row]

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and os.path.abspath(path) in self._seen

    def add(self, entries: Iterable[tuple[str, int] | tuple[str, int, str]]) -> int:
        """Append ``(path, size[, shown])`` entries not already present; return how many."""
        new_paths: list[str] = []
        new_shown: list[str] = []
        new_sizes: list[int] = []
        new_order: list[int] = []
        seen, accepted, hidden = self._seen, self._accepted, 0
        for entry in entries:
            path = os.path.abspath(entry[0])
            if path in seen:
                continue
            seen.add(path)
            shown = entry[2] if len(entry) > 2 else os.path.basename(path)
            self._next += 1
            if not accepted(os.path.basename(path)):
                self._hidden.append((self._next, path, shown, int(entry[1])))
                hidden += 1
                continue
            new_order.append(self._next)
            new_paths.append(path)
            new_sizes.append(int(entry[1]))
            new_shown.append(shown)
        if not new_paths:
            if hidden:
                self._emit_changed()
            return 0
        first = len(self._paths)
        self.beginInsertRows(_ROOT, first, first + len(new_paths) - 1)
        self._paths.extend(new_paths)
        self._shown.extend(new_shown)
        self._sizes.extend(new_sizes)
        self._order.extend(new_order)
        self._total += sum(new_sizes)
        self.endInsertRows()
        self._emit_changed()
        return len(new_paths)

    # -- what the task accepts ------------------------------------------------
    @property
    def hidden_count(self) -> int:
        """Files in the list that the current task does not accept."""
        return len(self._hidden)

    def set_accepts(self, patterns: Sequence[str]) -> None:
        """Show only files whose names match ``patterns`` (none: every file); hide the rest."""
        patterns = tuple(patterns)
        if patterns == self._accepts:
            return
        self._accepts, self._accepted = patterns, matcher(patterns)
        everything = sorted([*zip(self._order, self._paths, self._shown, self._sizes), *self._hidden])
        keep = [e for e in everything if self._accepted(os.path.basename(e[1]))]
        self._hidden = [e for e in everything if not self._accepted(os.path.basename(e[1]))]
        self.beginResetModel()
        self._order = [e[0] for e in keep]
        self._paths = [e[1] for e in keep]
        self._shown = [e[2] for e in keep]
        self._sizes = [e[3] for e in keep]
        self._total = sum(self._sizes)
        self.endResetModel()
        self._emit_changed()

    def add_files(self, paths: Iterable[str | os.PathLike]) -> int:
        """Add single files (stat'ed here; meant for a handful picked by hand)."""
        entries = []
        for p in paths:
            p = os.fspath(p)
            try:
                st = os.stat(p)
            except OSError:
                continue
            entries.append((p, st.st_size))
        return self.add(entries)

    def remove_rows(self, rows: Sequence[int]) -> int:
        """Remove the given rows (any order, duplicates ignored); return how many."""
        doomed = sorted(set(r for r in rows if 0 <= r < len(self._paths)))
        if not doomed:
            return 0
        ranges: list[tuple[int, int]] = []
        for r in doomed:
            if ranges and ranges[-1][1] == r - 1:
                ranges[-1] = (ranges[-1][0], r)
            else:
                ranges.append((r, r))
        if len(ranges) > 64:
            # Many scattered ranges: one reset is cheaper than many removals.
            keep = set(range(len(self._paths))).difference(doomed)
            order = sorted(keep)
            self.beginResetModel()
            self._paths = [self._paths[i] for i in order]
            self._shown = [self._shown[i] for i in order]
            self._sizes = [self._sizes[i] for i in order]
            self._order = [self._order[i] for i in order]
            self._rebuild_index()
            self.endResetModel()
        else:
            for first, last in reversed(ranges):
                self.beginRemoveRows(_ROOT, first, last)
                for lst in (self._paths, self._shown, self._sizes, self._order):
                    del lst[first : last + 1]
                self.endRemoveRows()
            self._rebuild_index()
        self._emit_changed()
        return len(doomed)

    def clear(self) -> None:
        if not self._paths and not self._hidden:
            return
        self.beginResetModel()
        self._paths, self._shown, self._sizes, self._order, self._hidden = [], [], [], [], []
        self._rebuild_index()
        self.endResetModel()
        self._emit_changed()

    def _rebuild_index(self) -> None:
        self._seen = set(self._paths).union(h[1] for h in self._hidden)
        self._total = sum(self._sizes)

    def _emit_changed(self) -> None:
        self.changed.emit(len(self._paths), self._total)
