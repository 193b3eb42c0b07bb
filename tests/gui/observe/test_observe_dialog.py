"""File ▸ Observe a Program…: a real program observed through the observe host, the verdict, Stop."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

pytest.importorskip("PySide6")

from poolside.gui.a11y import unnamed_controls
from poolside.gui.observe_dialog import ObserveDialog, running_processes
from tests.observe.conftest import PROGRAMS
from tests.waits import WAIT_MS, WAIT_S


@pytest.fixture
def dialog(qtbot):
    d = ObserveDialog()
    qtbot.addWidget(d)
    d.show()
    yield d
    d.shutdown()


def test_a_typed_command_is_observed_to_its_verdict(dialog, qtbot):
    assert unnamed_controls(dialog) == []
    dialog.command.setText(f"{sys.executable} {PROGRAMS / 'pool_pure.py'}")
    with qtbot.waitSignal(dialog.historyChanged, timeout=WAIT_MS):
        dialog.observe_button.click()
    record = dialog.record
    assert record is not None and record["exit_code"] == 0
    assert {p["role"] for p in record["processes"]} >= {"main", "worker"}
    assert "The work ran in parallel." in dialog.verdict.text()
    assert f"Kept in the history as #{dialog.history_id}" in dialog.status.text()
    assert dialog.observe_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert dialog.cores.peak_memory() > 0  # the Cores views got the observed tree's series


def test_stop_ends_the_observation_not_the_program(dialog, qtbot):
    proc = subprocess.Popen([sys.executable, "running.py"], cwd=PROGRAMS, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        dialog.list_processes()
        rows = [dialog.processes.topLevelItem(i) for i in range(dialog.processes.topLevelItemCount())]
        mine = next(r for r in rows if r.text(0) == str(proc.pid))
        assert "python" in mine.text(1).lower() or "python" in mine.text(2)
        mine.setSelected(True)
        dialog.observe_button.click()
        qtbot.waitUntil(lambda: "processes seen" in dialog.status.text(), timeout=WAIT_MS)
        dialog.stop_button.click()
        qtbot.waitUntil(lambda: dialog.record is not None, timeout=WAIT_MS)
        assert "The observation was stopped; the program goes on." in dialog.status.text()
        assert proc.poll() is None and psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(WAIT_S)


def test_python_processes_are_listed_first():
    listed = running_processes()
    python = ["python" in name.lower() or "python" in cmd.split(" ", 1)[0] for _pid, name, cmd in listed]
    assert python == sorted(python, reverse=True)


def test_a_command_that_cannot_run_is_said(dialog, qtbot):
    dialog.command.setText("no-such-program-here --flag")
    dialog.observe_button.click()
    qtbot.waitUntil(lambda: "Nothing was observed" in dialog.status.text(), timeout=WAIT_MS)
    assert "command not found: no-such-program-here" in dialog.status.text()
    assert dialog.observe_button.isEnabled() and dialog.record is None


def test_closing_the_dialog_mid_observation_leaves_the_program_running(qtbot):
    proc = subprocess.Popen([sys.executable, "running.py"], cwd=PROGRAMS, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    d = ObserveDialog()
    qtbot.addWidget(d)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        d.command.clear()
        d.show()
        d.list_processes()
        rows = [d.processes.topLevelItem(i) for i in range(d.processes.topLevelItemCount())]
        next(r for r in rows if r.text(0) == str(proc.pid)).setSelected(True)
        d.observe_button.click()
        qtbot.waitUntil(lambda: "processes seen" in d.status.text(), timeout=WAIT_MS)
        host = d.host_pid()
        assert host is not None
        d.close()  # ends the observation and its host
        assert not psutil.pid_exists(host)  # waited for and reaped
        assert proc.poll() is None
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(WAIT_S)


def test_the_verdict_names_what_could_not_be_seen_beside_what_was(qtbot):
    """A real record (``tests/observe/test_other_user.py``'s, observed as nobody under hidepid=invisible):
    its main process was seen, its root-owned child was not."""
    import json

    from poolside.gui.observe_dialog import show_observation

    record = json.loads((PROGRAMS.parent / "data" / "hidden_child.json").read_text(encoding="utf-8"))
    (unseen,) = record["verdict"]["evidence"]["not_seen"]
    dialog = show_observation(None, record, None)
    qtbot.addWidget(dialog)
    text = dialog.verdict.text()
    assert f"could not be seen: {unseen}" in text and "hidepid" in text
    assert f"{record['processes'][0]['pid']} main process" in text  # what was seen is still shown
