"""One run, or two side by side: wall time, speed, speed-up of one over the other, counts, insights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from poolside.records import STATUS_ORDER
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.runs import run_state


def _rate(run: Mapping[str, Any]) -> float:
    wall = float(run.get("wall_s") or 0)
    return int(run.get("total") or 0) / wall if wall > 0 else 0.0


def run_rows(runs: list[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(label, one text per run) for every row of the side-by-side table."""
    rows: list[tuple[str, list[str]]] = [
        ("Task", [str(r.get("plugin", "")) for r in runs]),
        ("Backend", [config_label({**(r.get("spec") or {}), **r}) for r in runs]),
        ("Items", [fmt.count(int(r.get("total") or 0)) for r in runs]),
        ("Wall time", [fmt.human_duration(r.get("wall_s")) for r in runs]),
        ("Items per second", [fmt.rate(_rate(r)) for r in runs]),
        ("CPU time", [fmt.human_duration(r.get("cpu_s")) for r in runs]),
        ("Status", [run_state(r.get("status")).label for r in runs]),
    ]
    for status in STATUS_ORDER:
        rows.append((f"Items {status.label}", [fmt.count(int((r.get("counts") or {}).get(status.value, 0)))
                                                 for r in runs]))
    if len(runs) == 2 and all(float(r.get("wall_s") or 0) > 0 for r in runs):
        a, b = (float(r["wall_s"]) for r in runs)
        rows.insert(4, ("Speed-up", ["1.00×", f"{a / b:.2f}× (against the earlier)"]))
    keys = list(dict.fromkeys(k for r in runs for k in (r.get("insights") or {})))
    for key in keys:
        values = [(r.get("insights") or {}).get(key) for r in runs]
        rows.append((key.replace("_", " ").capitalize(),
                     ["–" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v) for v in values]))
    return rows


class RunsTable(QTableWidget):
    """One column per run (one or two), one row per fact."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Runs side by side")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_runs(self, runs: list[Mapping[str, Any]]) -> None:
        rows = run_rows(runs)
        self.clear()
        self.setColumnCount(len(runs))
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels([f"Run {r.get('id', '?')}" for r in runs])
        self.setVerticalHeaderLabels([label for label, _ in rows])
        for i, (_, texts) in enumerate(rows):
            for j, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(i, j, item)

    def cell_text(self, label: str, column: int) -> str:
        for row in range(self.rowCount()):
            header = self.verticalHeaderItem(row)
            if header is not None and header.text() == label:
                item = self.item(row, column)
                return item.text() if item is not None else ""
        return ""
