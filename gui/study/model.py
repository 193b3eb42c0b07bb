"""The study being watched: configurations as they are measured, where the study stands, its verdict.

    StudyClient callbacks ─► StudyModel.set_round / set_progress / finish ─► signals ─► views
    a record from History  ─► StudyModel.load ─────────────────┘

The model holds the study's typed records (``poolside.study``: ``ConfigResult``
per configuration, ``StudyResult`` at the end) and knows nothing of its views;
the table model below is one of them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from poolside.study import Config, ConfigResult, Progress, Round, StudyResult
from poolside.study.record import fastest_first
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.study import warning


class StudyModel(QObject):
    """One study's state.  ``configsChanged`` after each round, ``finished(record)`` at the end."""

    configsChanged = Signal()
    progressChanged = Signal(object)
    finished = Signal(object)  # the StudyResult, or None when the study failed to run
    cleared = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._configs: dict[Config, ConfigResult] = {}
        self._record: StudyResult | None = None
        self._progress: Progress | None = None
        self._round = (0, 0)

    # -- reading ------------------------------------------------------------
    def configs(self) -> list[ConfigResult]:
        return list(self._configs.values())

    @property
    def record(self) -> StudyResult | None:
        """The finished study record (``None`` while it runs, or if it could not run)."""
        return self._record

    @property
    def progress(self) -> Progress | None:
        return self._progress

    def physical_cores(self) -> int:
        physical = self._record.physical_cores if self._record is not None else None
        if physical:
            return physical
        from poolside.system import system_info

        return int(system_info().physical_cores)

    # -- writing ------------------------------------------------------------
    def clear(self) -> None:
        self._configs.clear()
        self._record = None
        self._progress = None
        self._round = (0, 0)
        self.cleared.emit()
        self.configsChanged.emit()

    def set_round(self, rnd: Round) -> None:
        """The numbers so far after one more interleaved round: one change for all its configurations.

        Views re-sort on each change, so bars move at most once per round (not per repeat).
        A round that changed no number is no change.
        """
        changed = [self._put(config) for config in rnd.configs]
        self._round = (rnd.round, rnd.repeats)
        if any(changed):
            self.configsChanged.emit()

    def _put(self, config: ConfigResult) -> bool:
        """Keep a configuration's newer record; False if it equals the one kept (views keep theirs)."""
        if self._configs.get(config.config) == config:
            return False
        self._configs[config.config] = config
        return True

    @property
    def round(self) -> tuple[int, int]:
        """(rounds done, repeats planned) of a live study; (0, 0) before the first round."""
        return self._round

    def set_progress(self, progress: Progress) -> None:
        self._progress = progress
        self.progressChanged.emit(progress)

    def finish(self, record: StudyResult | None) -> None:
        if record is not None:
            self._record = record
            self._configs = {c.config: c for c in record.configs}
            self.configsChanged.emit()
        self.finished.emit(self._record)

    def load(self, record: StudyResult) -> None:
        """Show a finished study again (from the history or a file)."""
        self.clear()
        self.finish(record)


_HEADERS = ("Configuration", "Median ± MAD", "Speed-up", "Efficiency", "CPU used (cores)", "Peak memory",
            "Per worker", "Start-up", "Problems")
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _problems(c: ConfigResult) -> str:
    if c.error:
        return "could not run"
    return fmt.count(c.problems) if c.problems else "none"


def _cells(c: ConfigResult) -> tuple[str, ...]:
    s = c.spread
    return (
        config_label(c.config),
        f"{fmt.human_duration(s.median)} ± {fmt.human_duration(s.mad)}" if c.runs else "–",
        f"{c.speedup:.2f}×",
        f"{100 * c.efficiency:.0f} %",
        f"{c.cores_used:.1f}" if c.runs else "–",
        fmt.human_bytes(c.peak_bytes),
        fmt.human_bytes(None if c.worker_mb is None else c.worker_mb * 1e6),  # USS of one worker process
        fmt.human_duration(c.startup_s),
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


def _tooltip(c: ConfigResult) -> str:
    walls = ", ".join(fmt.human_duration(w) for w in c.wall_s)
    s = c.spread
    lines = [f"Every repeat's wall time: {walls or '–'}",
             f"Range: {fmt.human_duration(s.min)} – {fmt.human_duration(s.max)}"]
    lines += [warning(w) for w in c.warnings()]
    if c.error:
        lines.append(f"Could not run: {c.error}")
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
        self._keys: list[Config] = []
        self._rows: list[ConfigResult] = []
        self._cells: list[tuple[str, ...]] = []
        study.configsChanged.connect(self._reload)
        self._reload()  # a study that has numbers already shows them

    def _reload(self) -> None:
        rows = fastest_first(self._study.configs())
        keys = [c.config for c in rows]
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

    def _sort_as(self, keys: list[Config]) -> None:
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

    def config(self, row: int) -> ConfigResult:
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
