"""The Run tab's queue, on the real engine through the run host: Add to Queue keeps the job, the queue
shows in the tab and can be reordered and removed from, queued jobs run one after another when a run
ends (each in the history), and after a restart the window asks before it runs them."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from poolside.gui.workspaces.run.workspace import NEXT_JOB_HINT
from poolside.history import store
from tests import PLUGIN_FILES
from tests.engine.test_run_controls import gates
from tests.gui_helpers import WindowDriver, open_window
from tests.waits import WAIT_MS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFO gates are POSIX")

TASKS = str(PLUGIN_FILES / "host_tasks.py")


def _items(tmp_path, prefix: str, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = tmp_path / f"{prefix}{i}.txt"
        p.write_text(p.name)
        paths.append(str(p))
    return paths


def _job(driver, paths: list[str], workers: int) -> None:
    driver.run_ws.files.clear_action.trigger()
    driver.add_files(paths)
    driver.choose_plugin("gate_on")
    driver.choose_backend("threads", workers, chunk_size=1)


def _labels(driver) -> list[str]:
    model = driver.run_ws.queue.model
    return [model.data(model.index(r)) for r in range(model.rowCount())]


def _recorded_runs() -> list[dict]:
    conn = store.connect()
    try:
        return sorted(store.list_runs(conn), key=lambda r: r["id"])
    finally:
        conn.close()


def test_queue_keeps_jobs_reorders_removes_and_runs_them_one_after_another(driver, tmp_path, qtbot):
    assert driver.load_plugin_file(TASKS)
    queue = driver.run_ws.queue
    panel = queue.panel
    assert not panel.isVisible()  # nothing queued: no section
    a, b, c = _items(tmp_path, "a", 2), _items(tmp_path, "b", 3), _items(tmp_path, "c", 4)
    for paths, workers in ((a, 1), (b, 2), (c, 1)):
        _job(driver, paths, workers)
        assert queue.add_action.isEnabled()
        queue.add_action.trigger()
    assert panel.isVisible()
    assert _labels(driver) == ["1. gate_on over 2 files on threads ×1 · chunk 1",
                               "2. gate_on over 3 files on threads ×2 · chunk 1",
                               "3. gate_on over 4 files on threads ×1 · chunk 1"]
    for button, name in ((panel.up_button, "Move Up"), (panel.down_button, "Move Down"),
                         (panel.remove_button, "Remove"), (panel.start_button, "Start Queue")):
        assert button.accessibleName() == button.text() == name
    panel.select(0)
    panel.down_button.click()  # a after b
    assert [lbl.split(" over ")[1][:1] for lbl in _labels(driver)] == ["3", "2", "4"]
    panel.select(2)
    panel.remove_button.click()  # c goes
    assert len(_labels(driver)) == 2

    # A run is going: Add to Queue (its key) keeps that job too; each ends, the next starts.
    gate, = gates(tmp_path, 1)
    # Listed by name (no file behind it): queued with the others, it is not found when that job runs.
    driver.run_ws.files.clear_action.trigger()
    driver.add_items([gate.path, *_items(tmp_path, "r", 2)])
    with qtbot.waitSignal(driver.window.runStarted, timeout=WAIT_MS):
        assert driver.start_run()
    gate.wait_started()
    assert not panel.start_button.isEnabled()  # a run is going
    qtbot.keyClick(driver.window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(_labels(driver)) == 3
    finished = []
    driver.window.runFinished.connect(finished.append)
    gate.release()
    qtbot.waitUntil(lambda: len(finished) == 4 and not driver.window.running, timeout=WAIT_MS)
    assert [s.total for s in finished] == [3, 3, 2, 2]
    assert all(s.counts["ok"] == s.total for s in finished)
    assert _labels(driver) == [] and not panel.isVisible()
    runs = _recorded_runs()
    assert [(r["total"], r["workers"], r["state"]) for r in runs] == [
        (3, 1, "finished"), (3, 2, "finished"), (2, 1, "finished"), (2, 1, "finished")]


def test_after_a_restart_the_window_asks_before_running_the_queue(qtbot, tmp_path):
    first = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    assert first.load_plugin_file(TASKS)
    _job(first, _items(tmp_path, "q", 2), 1)
    first.run_ws.queue.add_action.trigger()
    first.close()

    asked = []
    later = open_window(qtbot, tmp_path)
    driver = WindowDriver(qtbot, later)
    later.run_ws.queue.confirm = lambda n: asked.append(n) or False  # No: it stays queued
    later.run_ws.task.ask_to_load = lambda path: True  # the queued job's plugin file: asked on Run, as any job's
    qtbot.waitUntil(lambda: asked == [1], timeout=WAIT_MS)
    assert not later.running and len(_labels(driver)) == 1
    with qtbot.waitSignal(later.runFinished, timeout=WAIT_MS) as ended:
        driver.run_ws.queue.panel.start_button.click()
    assert ended.args[0].counts["ok"] == 2
    assert _labels(driver) == []
    driver.close()


def test_while_a_run_goes_the_next_job_is_set_up_and_queued_without_touching_it(driver, tmp_path, qtbot):
    """Job A runs (held by a gate); meanwhile the files, the task's parameters and the backend change
    to job B, which is queued.  A's results, summary, title and history stay A's; then B runs as B."""
    assert driver.load_plugin_file(TASKS)
    ws = driver.run_ws
    gate, = gates(tmp_path, 1)
    a = [gate.path, *_items(tmp_path, "a", 2)]
    driver.add_items(a)
    driver.choose_plugin("gate_on")
    driver.choose_backend("threads", 1, chunk_size=1)
    with qtbot.waitSignal(driver.window.runStarted, timeout=WAIT_MS):
        assert driver.start_run()
    gate.wait_started()
    # The panels stay editable; Run and Preview do not, Add to Queue does; a line says what to do meanwhile.
    assert ws.files.add_files_action.isEnabled() and ws.files.acceptDrops()
    assert ws.task.combo.isEnabled() and ws.task.form.isEnabled() and ws.backend.workers.isEnabled()
    assert not ws.run_action.isEnabled() and not ws.preview_action.isEnabled()
    assert ws.queue.add_action.isEnabled() and not ws.start_run()
    note = ws.progress.note
    assert note.isVisible() and note.accessibleName() == note.text() == NEXT_JOB_HINT
    # Esc typed in a field of the next job leaves the running one alone (Esc elsewhere still cancels).
    field = ws.task.form.editor("marker")
    driver.window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert driver.window.running and not ws.bridge.cancel_requested

    # Another plugin file, loaded for its form (its first task, shout, has columns of its own).
    headers = [ws.results.model.headerData(c, Qt.Orientation.Horizontal)
               for c in range(ws.results.model.columnCount())]
    assert driver.load_plugin_file(PLUGIN_FILES / "my_tasks.py")
    assert ws.task.current_plugin().name == "shout"
    assert "gate_on · 3 files" in driver.window.windowTitle()  # the running job's, not the panels'
    assert [ws.results.model.headerData(c, Qt.Orientation.Horizontal)
            for c in range(ws.results.model.columnCount())] == headers
    driver.choose_plugin("gate_on")
    b = _items(tmp_path, "b", 4)
    ws.files.clear_action.trigger()
    driver.add_files(b)
    driver.set_params(marker="zzz")
    driver.choose_backend("threads", 2, chunk_size=1)
    assert "gate_on · 3 files" in driver.window.windowTitle()  # the running job's, not the panels'
    ws.queue.add_action.trigger()
    assert _labels(driver) == ["1. gate_on over 4 files on threads ×2 · chunk 1"]
    queued = ws.queue.model.jobs()[0].spec
    assert queued.paths == tuple(b) and dict(queued.params) == {"marker": "zzz"}
    said: list[str] = []
    ws.message.connect(said.append)
    assert not ws.rerun(queued, list(b))  # History's Resume meanwhile: said, and the panels keep job B
    assert said == ["gate_on over 3 files is still running: run these again once it ends."]

    ended: list[tuple[object, list[str]]] = []
    driver.window.runFinished.connect(lambda s: ended.append((s, sorted(o.item for o in driver.outcomes()))))
    gate.release()
    qtbot.waitUntil(lambda: len(ended) == 2 and not driver.window.running, timeout=WAIT_MS)
    (first, first_items), (second, second_items) = ended
    assert first_items == sorted(a) and first.total == 3 and first.counts["ok"] == 3
    assert second_items == sorted(b) and second.total == 4 and second.counts["ok"] == 4
    assert not note.isVisible() and _labels(driver) == []
    conn = store.connect()
    try:
        runs = [store.get_run(conn, r["id"]) for r in _recorded_runs()]
    finally:
        conn.close()
    assert [(r["workers"], r["spec"]["params"], sorted(r["spec"]["paths"])) for r in runs] == [
        (1, {"marker": "gate"}, sorted(a)), (2, {"marker": "zzz"}, sorted(b))]
