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

from ... import format as fmt
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
        self._configs[config_key(config)] = dict(config)
        self.configsChanged.emit()

    def set_round(self, rnd: Mapping[str, Any]) -> None:
        """The numbers so far after one more interleaved round: one change for all its configurations.

        Views re-sort on each change, so bars move at most once per round (not per repeat).
        """
        for config in rnd.get("configs", ()):
            self._configs[config_key(config)] = dict(config)
        self._round = (int(rnd.get("round") or 0), int(rnd.get("repeats") or 0))
        self.configsChanged.emit()

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


def _tooltip(c: Mapping[str, Any]) -> str:
    walls = ", ".join(fmt.human_duration(w) for w in c.get("wall_s", ()))
    lines = [f"Every repeat's wall time: {walls or '–'}",
             f"Range: {fmt.human_duration(c.get('min_s'))} – {fmt.human_duration(c.get('max_s'))}"]
    lines += [str(w) for w in c.get("warnings") or ()]
    if c.get("error"):
        lines.append(f"Could not run: {c['error']}")
    return "\n".join(lines)


class StudyTableModel(QAbstractTableModel):
    """The study's numbers, one row per configuration, fastest first."""

    ConfigRole = Qt.ItemDataRole.UserRole.value + 1

    def __init__(self, study: StudyModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._study = study
        self._rows: list[Mapping[str, Any]] = []
        self._cells: list[tuple[str, ...]] = []
        study.configsChanged.connect(self._reload)

    def _reload(self) -> None:
        rows = ranked(self._study.configs())
        cells = [_cells(c) for c in rows]
        if [config_key(c) for c in rows] == [config_key(c) for c in self._rows] and rows:
            # The same configurations in the same order (most rounds of a live study):
            # new numbers in place, so the selection and the scroll position stay.
            self._rows, self._cells = rows, cells
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(_HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows, self._cells = rows, cells
        self.endResetModel()

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
