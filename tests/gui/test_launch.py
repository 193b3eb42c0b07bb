"""Launching and quitting: the launcher checks before Qt, the exit handlers run, the process ends."""

from __future__ import annotations

import subprocess
import sys
import types

from poolside.gui import platform_check
from poolside.gui.launcher import main as launcher
from tests.waits import WAIT_S


def test_the_launcher_stops_before_qt_when_xcb_libraries_are_missing(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "_loads", lambda name: name != "libxcb-cursor.so.0")
    monkeypatch.setitem(sys.modules, "poolside.gui.app", None)  # Qt is never reached
    assert launcher([]) == 2
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err and "sudo apt install libxcb-cursor0" in err
    assert "sudo dnf install xcb-util-cursor" in err
    assert "poolside run PATHS" in err  # and what works without the window


def test_the_launcher_opens_the_window_when_the_libraries_load(monkeypatch):
    calls = []
    fake = types.ModuleType("poolside.gui.app")
    fake.main = lambda argv=None, exit_process=False, paths=(): calls.append(exit_process) or 0
    monkeypatch.setitem(sys.modules, "poolside.gui.app", fake)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "_loads", lambda name: True)
    assert launcher([]) == 0
    assert calls == [True]  # the command's window ends the process when it closes


_EXIT_NOW = """
import atexit, sys
from poolside import run
from poolside.backends.workers import parked_pids
from poolside.gui.app import exit_now

if __name__ == "__main__":
    list(run(abs, range(100), backend="processes", workers=2))
    print(*parked_pids(), flush=True)
    atexit.register(print, "handler ran", flush=True)
    exit_now(3)
    print("not reached")
"""


def test_exit_now_runs_the_exit_handlers_stops_parked_workers_and_ends(tmp_path):
    script = tmp_path / "quit.py"
    script.write_text(_EXIT_NOW)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=WAIT_S)
    assert done.returncode == 3, done.stderr
    first, *rest = done.stdout.splitlines()
    assert rest == ["handler ran"]
    import psutil

    for pid in map(int, first.split()):  # the parked workers ended with it, none left behind
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_the_window_command_ends_the_process_once_the_window_closed(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from poolside.gui import app
    from poolside.gui.main_window import MainWindow

    monkeypatch.setenv("POOLSIDE_SETTINGS", str(tmp_path / "poolside.ini"))
    ended: list[int] = []
    monkeypatch.setattr(app, "exit_now", ended.append)
    hook = sys.excepthook

    def close_it() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible():
                w.quit_action.trigger()
        QApplication.instance().quit()

    QTimer.singleShot(0, close_it)
    assert app.main([], exit_process=True) == 0
    assert ended == [0]  # after the settings were saved: the file is there
    assert (tmp_path / "poolside.ini").exists()
    assert sys.excepthook is hook  # the crash report's hook is the window's only
