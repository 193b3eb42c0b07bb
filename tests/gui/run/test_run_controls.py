"""Pause, Resume and Stop After Current Items in the window, on the real engine through the run host.

A gated item (``gate_on`` in ``plugin_files/host_tasks.py``) says through a FIFO that it has started
and waits to be released, so each test knows what runs when it pauses or stops; every other wait is
on a signal.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from poolside.history import store
from tests import PLUGIN_FILES
from tests.engine.test_run_controls import gates
from tests.waits import WAIT_MS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFO gates are POSIX")

TASKS = str(PLUGIN_FILES / "host_tasks.py")


def _set_up(driver, tmp_path, rest: int = 12):
    gate, = gates(tmp_path, 1)
    names = [gate.path, *(str(tmp_path / f"item{i:02}") for i in range(rest))]
    driver.add_items(names)
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin("gate_on")
    driver.choose_backend("threads", 1, chunk_size=1)
    return gate, names


def _state(run_id: int) -> str:
    conn = store.connect()
    try:
        return store.get_run(conn, run_id)["state"]
    finally:
        conn.close()


def test_pause_holds_new_items_until_resume_and_the_run_goes_on(driver, tmp_path, qtbot):
    gate, names = _set_up(driver, tmp_path)
    ws, bridge = driver.run_ws, driver.window.bridge
    controls = ws.controls
    pause_button = next(b for b in ws.progress.control_buttons if b.defaultAction() is controls.pause_action)
    assert pause_button.accessibleName() == "Pause" and not controls.pause_action.isEnabled()
    with qtbot.waitSignal(bridge.started, timeout=WAIT_MS):
        assert driver.start_run()
    gate.wait_started()
    assert controls.pause_action.isEnabled() and controls.stop_action.isEnabled()
    with qtbot.waitSignal(bridge.held, timeout=WAIT_MS):
        qtbot.keyClick(driver.window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # the Run menu's key
    assert bridge.paused and "Paused" in driver.headline()
    assert controls.resume_action.isEnabled() and not controls.pause_action.isEnabled()
    resume_button = next(b for b in ws.progress.control_buttons if b.defaultAction() is controls.resume_action)
    assert resume_button.isVisible() and not pause_button.isVisible()
    assert resume_button.accessibleName() == "Resume"
    history_id = bridge.job.history_id
    qtbot.waitUntil(lambda: _state(history_id) == "paused", timeout=WAIT_MS)
    # The running item finishes while paused; nothing else starts (the pause is in effect: held).
    gate.release()
    qtbot.waitUntil(lambda: len(driver.outcomes()) == 1, timeout=WAIT_MS)
    assert driver.outcomes()[0].item == gate.path
    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as ended:
        resume_button.click()
    summary = ended.args[0]
    assert summary.counts["ok"] == len(names) == summary.total
    assert _state(history_id) == "finished"
    assert not controls.pause_action.isEnabled() and controls.pause_action.isVisible()


def test_stop_after_current_items_keeps_the_running_one_and_history_says_stopped(driver, tmp_path, qtbot):
    gate, names = _set_up(driver, tmp_path)
    bridge = driver.window.bridge
    with qtbot.waitSignal(bridge.started, timeout=WAIT_MS):
        assert driver.start_run()
    gate.wait_started()
    menu = next(a.menu() for a in driver.window.menuBar().actions() if a.text() == "&Run")
    stop = next(a for a in menu.actions() if a.text() == "Stop After Current Items")
    assert stop.shortcut().toString() == "Shift+Esc"
    with qtbot.waitSignal(bridge.held, timeout=WAIT_MS):
        stop.trigger()
    assert "Stopping" in driver.headline() and not stop.isEnabled()
    history_id = bridge.job.history_id
    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as ended:
        gate.release()
    summary = ended.args[0]
    assert summary.counts["ok"] == 1 and summary.counts["cancelled"] == len(names) - 1
    by_item = {o.item: o for o in driver.outcomes()}
    assert by_item[gate.path].status == "ok"  # it ran to its end: nothing running was thrown away
    assert {o.error.type for o in by_item.values() if o.status == "cancelled"} == {"Stopped"}
    assert driver.headline().startswith("<b>Stopped</b>")
    assert _state(history_id) == "stopped"
    history = driver.window.history_ws
    history.refresh()

