"""A plugin file's code runs only when the user runs it: Open Job and History name it, Run asks first.

The plugin file writes a marker line each time it is imported, so every test can say whether its code ran."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from poolside.gui.workspaces.history import sqlite_reader
from poolside.history import store
from poolside.spec import JobSpec
from tests import PLUGIN_FILES
from tests.gui_helpers import WindowDriver, open_window
from tests.waits import WAIT_MS

PLUGIN = PLUGIN_FILES / "marker_tasks.py"


@pytest.fixture
def marker(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "imported.txt"
    monkeypatch.setenv("POOLSIDE_TEST_MARKER", str(path))
    return path


@pytest.fixture
def plugin(tmp_path) -> Path:
    """A copy of the marker plugin of this test's own (a path no other test has imported)."""
    copy = tmp_path / "marker_tasks.py"
    shutil.copy(PLUGIN, copy)
    return copy


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(name, encoding="utf-8")
    return folder


def _job(tmp_path: Path, plugin: Path, data: Path) -> Path:
    job = tmp_path / "job.toml"
    paths = tuple(str(p) for p in sorted(data.iterdir()))
    JobSpec(f"{plugin}:name_size", paths=paths, params={"extra": 2}, backend="threads", workers=2).save(job)
    return job


class Asker:
    """Stands in for the Load and run question: records the files asked about, answers ``answer``."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, path: str) -> bool:
        self.asked.append(path)
        return self.answer


def _run(qtbot: Any, window: Any) -> Any:
    with qtbot.waitSignal(window.run_ws.runFinished, timeout=WAIT_MS) as blocker:
        assert window.run_ws.start_run()
    return blocker.args[0]


def test_open_job_names_the_plugin_without_running_it_and_run_asks_first(qtbot, driver, tmp_path, marker,
                                                                         plugin, data, monkeypatch):
    window = driver.window
    task = window.run_ws.task
    assert window.open_job(str(_job(tmp_path, plugin, data)))
    assert not marker.exists()
    assert "name_size" in task.description.text() and str(plugin) in task.description.text()
    assert "extra = 2" in task.facts.text()
    assert task.edit_button.isVisible() and task.edit_button.accessibleName() == "Edit parameters"

    no = Asker(False)
    monkeypatch.setattr(task, "ask_to_load", no)
    assert not window.run_ws.start_run()
    assert no.asked == [str(plugin)] and not marker.exists()

    yes = Asker(True)
    monkeypatch.setattr(task, "ask_to_load", yes)
    summary = _run(qtbot, window)
    assert yes.asked == [str(plugin)] and marker.exists()
    assert summary.counts["ok"] == 3
    assert sorted(o.value for o in driver.outcomes()) == [7, 7, 7]  # 5 bytes, plus extra = 2


def test_an_unchanged_file_is_not_asked_about_again_and_a_changed_one_is(qtbot, driver, tmp_path, marker,
                                                                         plugin, data, monkeypatch):
    job = _job(tmp_path, plugin, data)
    first = driver.window
    monkeypatch.setattr(first.run_ws.task, "ask_to_load", Asker(True))
    assert first.open_job(str(job))
    _run(qtbot, first)
    first.settings.sync()

    again = WindowDriver(qtbot, open_window(qtbot, tmp_path))  # the same settings file: a later session
    try:
        never = Asker(False)
        monkeypatch.setattr(again.window.run_ws.task, "ask_to_load", never)
        assert again.window.open_job(str(job))
        assert _run(qtbot, again.window).counts["ok"] == 3
        assert never.asked == []
    finally:
        again.close()

    plugin.write_text(plugin.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    changed = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    try:
        asked = Asker(False)
        monkeypatch.setattr(changed.window.run_ws.task, "ask_to_load", asked)
        assert changed.window.open_job(str(job))
        assert not changed.window.run_ws.start_run()
        assert asked.asked == [str(plugin)]
    finally:
        changed.close()


def test_history_selection_imports_nothing_and_resume_walks_off_the_gui_thread(qtbot, driver, tmp_path, plugin,
                                                                              data, monkeypatch):
    # The run to resume, recorded by the CLI in another process (its import marks nothing here).
    recorded = subprocess.run([sys.executable, "-m", "poolside", "run", str(data), "-r", "--plugin",
                               f"{plugin}:name_size", "-q"], capture_output=True, text=True)
    assert recorded.returncode == 0, recorded.stderr
    conn = store.connect()
    try:
        (run_id,) = conn.execute("SELECT max(id) FROM runs").fetchone()
        conn.execute("UPDATE runs SET state = 'interrupted' WHERE id = ?", (run_id,))
        conn.commit()
    finally:
        conn.close()
    for i in range(200):  # inputs the run never reached: Resume's items
        (data / f"new{i:03}.txt").write_text("new", encoding="utf-8")

    marker = tmp_path / "imported.txt"
    monkeypatch.setenv("POOLSIDE_TEST_MARKER", str(marker))
    walks: list[int] = []
    walk = sqlite_reader._pending

    def recording_walk(entry_id: str) -> list[str]:
        walks.append(threading.get_ident())
        return walk(entry_id)

    monkeypatch.setattr(sqlite_reader, "_pending", recording_walk)
    window = driver.window
    h = window.history_ws
    h.refresh()
    h.select(str(run_id))
    assert h.pages.currentWidget() is h.runs_page
    assert walks == [] and not marker.exists()
    assert h.resume_button.isEnabled()

    asked = Asker(True)
    monkeypatch.setattr(window.run_ws.task, "ask_to_load", asked)
    with qtbot.waitSignal(window.run_ws.runFinished, timeout=WAIT_MS) as blocker:
        h.resume_button.click()
    assert asked.asked == [str(plugin)]  # asked before the walk imported it, and once
    assert len(walks) == 1 and walks[0] != threading.get_ident()
    imports = marker.read_text(encoding="utf-8").splitlines()
    assert len(imports) == len(set(imports)), imports  # once in each process: the walk's load is the run's
    summary = blocker.args[0]
    assert summary.total == 200 and summary.counts["ok"] == 200


def test_history_resume_is_not_walked_when_the_user_declines(qtbot, driver, tmp_path, plugin, data, monkeypatch):
    recorded = subprocess.run([sys.executable, "-m", "poolside", "run", str(data), "-r", "--plugin",
                               f"{plugin}:name_size", "-q"], capture_output=True, text=True)
    assert recorded.returncode == 0, recorded.stderr
    with sqlite3.connect(store.db_path()) as conn:
        conn.execute("UPDATE runs SET state = 'interrupted'")
    walks: list[int] = []
    monkeypatch.setattr(sqlite_reader, "_pending", lambda entry_id: walks.append(1) or [])
    h = driver.window.history_ws
    h.refresh()
    h.select("1")
    monkeypatch.setattr(driver.window.run_ws.task, "ask_to_load", Asker(False))
    h.resume_button.click()
    assert walks == [] and h.resume_button.isEnabled()


def test_closing_waits_for_a_resume_walk_still_going(qtbot, driver, tmp_path, plugin, data, monkeypatch):
    recorded = subprocess.run([sys.executable, "-m", "poolside", "run", str(data), "-r", "--plugin",
                               f"{plugin}:name_size", "-q"], capture_output=True, text=True)
    assert recorded.returncode == 0, recorded.stderr
    with sqlite3.connect(store.db_path()) as conn:
        conn.execute("UPDATE runs SET state = 'interrupted'")
    started, release = threading.Event(), threading.Event()
    walkers: list[threading.Thread] = []

    def held_walk(entry_id: str) -> list[str]:
        walkers.append(threading.current_thread())
        started.set()
        release.wait()
        return []

    monkeypatch.setattr(sqlite_reader, "_pending", held_walk)
    h = driver.window.history_ws
    h.refresh()
    h.select("1")
    monkeypatch.setattr(driver.window.run_ws.task, "ask_to_load", Asker(True))
    h.resume_button.click()
    assert started.wait(WAIT_MS / 1000)
    releaser = threading.Timer(0.05, release.set)  # the walk ends while shutdown waits for it
    releaser.start()
    h.shutdown()
    releaser.join()
    assert not walkers[0].is_alive()
