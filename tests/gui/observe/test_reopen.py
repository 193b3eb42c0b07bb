"""A kept observation in the History tab: its verdict when selected, the whole of it when double-clicked."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")

from poolside.cli.main import main
from tests.observe.conftest import PROGRAMS


def test_a_kept_observation_reopens_from_the_history(driver, qtbot):
    assert main(["observe", "--", sys.executable, str(PROGRAMS / "exit_nonzero.py")]) == 3
    window = driver.window
    history = window.history_ws
    history.refresh()
    entry = history.model.entry(0)  # the newest first: the only entry
    assert entry["kind"] == "observe" and entry["summary"] == "observation"
    history.select(entry["id"])
    assert "One process did all the work" in history.note.text()
    index = history.model.index(history.model.row_of(entry["id"]), 0)
    with qtbot.waitSignal(history.observationRequested):
        history.list.doubleClicked.emit(index)
    dialog = window.observations[-1]
    assert dialog.record is not None and dialog.record["exit_code"] == 3
    assert "with exit code 3" in dialog.status.text()
    assert "One process did all the work" in dialog.verdict.text()
    assert dialog.cores.peak_memory() > 0  # its stored series is drawn
    dialog.close()
