"""The study being watched: configurations as they are measured, where the study stands, its verdict.

    StudyClient callbacks ─► StudyModel.set_round / add_config / set_progress / finish ─► signals ─► views
    a record from History  ─► StudyModel.load ──────────────────────────────┘

The model holds plain study-record dicts (``record.py``) and knows nothing of
its views; the table model below is one of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from poolside.words import units as fmt

from .record import config_key, config_label, cpu_cores_used, ranked


class StudyModel(QObject):
    """One study's state.  ``configsChanged`` after each measured configuration, ``finished(record)`` at the end."""

    configsChanged = Signal()
    progressChanged = Signal(object)
    finished = Signal(object)  # the whole record, or None when cancelled or failed
    cleared = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._configs: dict[tuple, dict[str, Any]] = {}
        self._record: dict[str, Any] | None = None
        self._progress: dict[str, Any] = {}
        self._round = (0, 0)

    # -- reading ------------------------------------------------------------
    def configs(self) -> list[dict[str, Any]]:
        return list(self._configs.values())

    @property
    def record(self) -> dict[str, Any] | None:
        """The finished study record (``None`` while it runs, or after a cancel)."""
        return self._record

    @property
    def progress(self) -> dict[str, Any]:
        return dict(self._progress)

    def physical_cores(self) -> int:
        machine = (self._record or {}).get("machine") or {}
        if machine.get("physical"):
            return int(machine["physical"])
        from poolside.system import system_info

        return int(system_info().physical_cores)

    # -- writing ------------------------------------------------------------
    def clear(self) -> None:
        self._configs.clear()
        self._record = None
        self._progress = {}
        self._round = (0, 0)
        self.cleared.emit()
        self.configsChanged.emit()

    def add_config(self, config: Mapping[str, Any]) -> None:
        """A configuration measured (or measured again: the newer numbers replace the older)."""
        if self._put(config):
            self.configsChanged.emit()

    def set_round(self, rnd: Mapping[str, Any]) -> None:
        """The numbers so far after one more interleaved round: one change for all its configurations.

        Views re-sort on each change, so bars move at most once per round (not per repeat).
        A round that changed no number is no change.
        """
        changed = [self._put(config) for config in rnd.get("configs", ())]
        self._round = (int(rnd.get("round") or 0), int(rnd.get("repeats") or 0))
        if any(changed):
            self.configsChanged.emit()

    def _put(self, config: Mapping[str, Any]) -> bool:
        """Keep a configuration's newer record; False if it equals the one kept (views keep theirs)."""
        key = config_key(config)
        if self._configs.get(key) == config:
            return False
        self._configs[key] = dict(config)
        return True

    @property
    def round(self) -> tuple[int, int]:
        """(rounds done, repeats planned) of a live study; (0, 0) before the first round."""
        return self._round

    def set_progress(self, progress: Mapping[str, Any]) -> None:
        self._progress = dict(progress)
        self.progressChanged.emit(self.progress)

    def finish(self, record: Mapping[str, Any] | None) -> None:
        if record is not None:
            self._record = dict(record)
            self._configs = {config_key(c): dict(c) for c in record.get("configs", ())}
            self.configsChanged.emit()
        self.finished.emit(self._record)

    def load(self, record: Mapping[str, Any]) -> None:
        """Show a finished study again (from the history or a file)."""
        self.clear()
        self.finish(record)


_HEADERS = ("Configuration", "Median ± MAD", "Speed-up", "Efficiency", "CPU used (cores)", "Peak memory", "Start-up",
            "Problems")
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _problems(c: Mapping[str, Any]) -> str:
    if c.get("error"):
        return "could not run"
    problems = sum(int(c.get(k) or 0) for k in ("failed", "timed_out", "cancelled"))
    return fmt.count(problems) if problems else "none"


def _cells(c: Mapping[str, Any]) -> tuple[str, ...]:
    cores = cpu_cores_used(c)
    return (
        config_label(c),
        f"{fmt.human_duration(c.get('median_s'))} ± {fmt.human_duration(c.get('mad_s'))}",
        f"{float(c.get('speedup') or 0):.2f}×",
        f"{100 * float(c.get('efficiency') or 0):.0f} %",
        "–" if math.isnan(cores) else f"{cores:.1f}",
        fmt.human_bytes(float(c.get("peak_mb") or 0) * 1024 * 1024),
        fmt.human_duration(c.get("startup_s")),
        _problems(c),
    )


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Ascending row numbers as (first, last) runs: one ``dataChanged`` per run of neighbours."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _tooltip(c: Mapping[str, Any]) -> str:
    walls = ", ".join(fmt.human_duration(w) for w in c.get("wall_s", ()))
    lines = [f"Every repeat's wall time: {walls or '–'}",
             f"Range: {fmt.human_duration(c.get('min_s'))} – {fmt.human_duration(c.get('max_s'))}"]
    lines += [str(w) for w in c.get("warnings") or ()]
    if c.get("error"):
        lines.append(f"Could not run: {c['error']}")
    return "\n".join(lines)


class StudyTableModel(QAbstractTableModel):
    """The study's numbers, one row per configuration, fastest first.

    A live study changes it every round, so each change tells the views as
    little as is true: the rows whose numbers changed (``dataChanged``), a
    re-sort (a layout change: the selection follows its configuration), a
    configuration measured for the first time (an inserted row).  Only a new
    study (configurations gone) resets it.  Rows whose record did not change keep
    their formatted cells: formatting 48 rows cost ~1.5 ms a round.
    """

    ConfigRole = Qt.ItemDataRole.UserRole.value + 1

    def __init__(self, study: StudyModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._study = study
        self._keys: list[tuple] = []
        self._rows: list[Mapping[str, Any]] = []
        self._cells: list[tuple[str, ...]] = []
        study.configsChanged.connect(self._reload)
        self._reload()  # a study that has numbers already shows them

    def _reload(self) -> None:
        rows = ranked(self._study.configs())
        keys = [config_key(c) for c in rows]
        before = dict(zip(self._keys, zip(self._rows, self._cells)))
        if not self._keys or not before.keys() <= set(keys):  # the first rows, or a new study
            self.beginResetModel()
            self._keys, self._rows, self._cells = keys, rows, [_cells(c) for c in rows]
            self.endResetModel()
            return
        self._sort_as([k for k in keys if k in before])
        for row, key in enumerate(keys):
            if key not in before:  # in ascending rows: the rows above it are already in place
                self.beginInsertRows(_ROOT, row, row)
                self._keys.insert(row, key)
                self._rows.insert(row, rows[row])
                self._cells.insert(row, _cells(rows[row]))
                self.endInsertRows()
        changed = []
        for row, (key, config) in enumerate(zip(keys, rows)):
            old = before.get(key)
            if old is not None and old[0] is not config and old[0] != config:
                self._rows[row], self._cells[row] = config, _cells(config)
                changed.append(row)
            elif old is not None:
                self._rows[row] = config  # equal numbers: nothing to redraw
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(_HEADERS) - 1))

    def _sort_as(self, keys: list[tuple]) -> None:
        """Put the rows in the order of ``keys`` (the same configurations), as a layout change."""
        if keys == self._keys:
            return
        self.layoutAboutToBeChanged.emit()  # PySide6 emits it without the sort hint
        where = {key: row for row, key in enumerate(keys)}
        moved = self.persistentIndexList()
        self.changePersistentIndexList(
            moved, [self.createIndex(where[self._keys[i.row()]], i.column()) for i in moved])
        was = {key: row for row, key in enumerate(self._keys)}
        order = [was[key] for key in keys]
        self._keys = list(keys)
        self._rows = [self._rows[i] for i in order]
        self._cells = [self._cells[i] for i in order]
        self.layoutChanged.emit()

    def config(self, row: int) -> Mapping[str, Any]:
        return self._rows[row]

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return _RIGHT
        if role == self.ConfigRole:
            return self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(self._rows[index.row()])
        return None
