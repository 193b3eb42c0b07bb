"""A window run whose history cannot be written: the run host runs it all the same, says why in
``Finished.history_error``, and the window shows it in the status bar (and logs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import PLUGIN_FILES

pytest.importorskip("PySide6")

from poolside.gui.bridge import RunBridge
from poolside.spec import JobSpec
from tests.gui_helpers import open_window
from tests.waits import WAIT_MS

TASKS = str(PLUGIN_FILES / "host_tasks.py")


@pytest.fixture
def damaged_history(tmp_path: Path, monkeypatch) -> Path:
    """A history file that is not a database, in the folder the host inherits."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    return home


def test_the_host_runs_the_job_and_says_why_it_is_not_in_the_history(qtbot, damaged_history, caplog):
    bridge = RunBridge()
    reasons: list[str] = []
    bridge.historyFailed.connect(reasons.append)
    try:
        with qtbot.waitSignal(bridge.historyFailed, timeout=WAIT_MS), \
                qtbot.waitSignal(bridge.finished, timeout=WAIT_MS) as finished:
            bridge.start(JobSpec(plugin=f"{TASKS}:crash_on", backend="threads", workers=2), ["a", "b", "c"])
    finally:
        bridge.shutdown()
    assert finished.args[0].counts["ok"] == 3
    assert bridge.history_id is None
    [reason] = reasons
    assert "not a database" in reason and str(damaged_history) in reason
    assert any("not in the history" in r.getMessage() for r in caplog.records)


def test_the_window_shows_it_in_the_status_bar(qtbot, tmp_path, damaged_history):
    window = open_window(qtbot, tmp_path)  # its History tab reads the damaged file too, and says so
    try:
        item = tmp_path / "one.txt"
        item.write_text("one", encoding="utf-8")
        window.run_ws.files.model.add([(str(item), 1)])
        assert window.run_ws.task.load_plugin_file(TASKS)
        assert window.run_ws.task.select("crash_on")
        window.run_ws.backend.set_backend("threads")
        with qtbot.waitSignal(window.bridge.historyFailed, timeout=WAIT_MS):
            assert window.run_ws.start_run()
        message = window.statusBar().currentMessage()
        assert message.startswith("This run is not in the history:") and "not a database" in message
    finally:
        window.close()
