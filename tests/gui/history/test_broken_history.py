"""A history that cannot be used: the window still opens and runs, says so once in the status bar
and in the History tab, and offers to move the file aside and start a new history."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from poolside.history import store
from tests.gui_helpers import WindowDriver, open_window
from tests.waits import WAIT_MS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the run host's history path is POSIX here")

DAMAGED = b"this is not a database " * 200


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [folder / f"f{i}.txt" for i in range(6)]
    for i, p in enumerate(paths):
        p.write_text(str(i))
    return paths


@pytest.fixture
def damaged() -> Path:
    """The user's history file, damaged before the window opens."""
    path = store.db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DAMAGED)
    return path


@pytest.fixture
def broken_driver(qtbot, tmp_path, damaged):
    d = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    yield d
    d.close()


def test_a_damaged_history_opens_runs_and_offers_a_new_one(qtbot, broken_driver, inputs, damaged):
    w = broken_driver.window
    tab = w.history_ws
    status = w.statusBar().currentMessage()
    assert "The history is unavailable" in status and "not a database" in status
    assert tab.broken_bar.isVisibleTo(tab) and "not a database" in tab.broken_note.text()
    assert tab.new_history_button.isVisibleTo(tab)
    assert tab.plugin_filter.currentText() == "All tasks"
    assert not any(b.isEnabled() for b in (tab.resume_button, tab.rerun_button, tab.export_button))

    broken_driver.choose_plugin("sha256")
    broken_driver.add_files(inputs)
    summary = broken_driver.run_and_wait()
    assert summary.counts["ok"] == len(inputs)
    qtbot.waitUntil(lambda: "This run is not in the history" in w.statusBar().currentMessage(), timeout=WAIT_MS)
    assert "not a database" in w.statusBar().currentMessage()

    tab.new_history_button.click()
    [old] = damaged.parent.glob("history.sqlite3.broken-*")
    assert old.read_bytes() == DAMAGED
    assert f"Started a new history; the old one is kept as {old}" in w.statusBar().currentMessage()
    assert not tab.broken_bar.isVisibleTo(tab) and tab.unavailable is None

    broken_driver.run_and_wait()
    w.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT_MS)
    assert "not in the history" not in w.statusBar().currentMessage()


def test_a_history_in_a_folder_that_cannot_exist_is_said_and_the_run_goes_on(qtbot, tmp_path, monkeypatch,
                                                                            inputs):
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("")
    monkeypatch.setenv("POOLSIDE_HOME", str(not_a_folder))
    d = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    try:
        assert "The history is unavailable" in d.window.statusBar().currentMessage()
        d.choose_plugin("sha256")
        d.add_files(inputs)
        assert d.run_and_wait().counts["ok"] == len(inputs)
        qtbot.waitUntil(lambda: "This run is not in the history" in d.window.statusBar().currentMessage(),
                        timeout=WAIT_MS)
        # The way out cannot help here (no file to move): it says why, and the tab still says the problem.
        d.window.history_ws.new_history_button.click()
        assert d.window.history_ws.unavailable is not None
    finally:
        d.close()


def test_a_read_only_history_file_never_stops_a_run_in_the_window(qtbot, tmp_path, inputs):
    import shutil
    import subprocess

    store.connect().close()
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: no way to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(store.db_path())], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"chattr +i is not permitted here ({done.stderr.strip()}): root ignores file modes")
    d = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    try:
        d.choose_plugin("sha256")
        d.add_files(inputs)
        assert d.run_and_wait().counts["ok"] == len(inputs)  # not "Could not start"
        qtbot.waitUntil(lambda: "This run is not in the history" in d.window.statusBar().currentMessage(),
                        timeout=WAIT_MS)
        assert "readonly" in d.window.statusBar().currentMessage()
        assert d.window.history_ws.broken_bar.isVisibleTo(d.window.history_ws)
    finally:
        d.close()
        subprocess.run(["chattr", "-i", str(store.db_path())], check=True)


def test_a_truncated_history_still_opens_the_window(qtbot, tmp_path, inputs):
    from poolside.cli import main

    for _ in range(6):  # a history of several pages, cut in the middle of them
        assert main(["run", str(inputs[0].parent), "-r", "--plugin", "sha256", "--backend", "threads", "-q"]) == 0
    whole = store.db_path().read_bytes()
    store.db_path().write_bytes(whole[: len(whole) // 2])
    d = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    try:
        assert "The history is unavailable" in d.window.statusBar().currentMessage()
        assert d.window.history_ws.new_history_button.isVisibleTo(d.window.history_ws)
    finally:
        d.close()
