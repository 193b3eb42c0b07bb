"""Launching and quitting: the xcb check before Qt, the desktop entry, a prompt exit."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from poolside.backends import _parking, workers
from poolside.gui import desktop, platform_check
from poolside.gui.launcher import main as launcher
from poolside.resources import resource

# -- which platform Qt will use ----------------------------------------------------------------


@pytest.mark.parametrize(("environ", "xcb"), [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:dpi=96"}, True),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, False),
    ({}, False),
])
def test_the_platform_is_xcb_as_qt_would_pick_it(environ, xcb):
    assert platform_check.platform_is_xcb(environ, "linux") is xcb
    assert platform_check.platform_is_xcb(environ, "darwin") is False


def test_missing_libraries_are_named_with_both_install_commands():
    missing = platform_check.missing_xcb_libraries(
        lambda name: name not in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert [lib for lib, _, _ in missing] == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    hint = platform_check.install_hint(missing)
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in hint
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in hint
    assert "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms" in hint


def test_the_check_loads_real_libraries():
    # libc is on every Linux machine; a made-up name never loads.
    if not sys.platform.startswith("linux"):
        pytest.skip("shared objects by soname are a Linux thing")
    assert platform_check._loads("libc.so.6")
    assert not platform_check._loads("libpoolside-no-such-library.so.0")


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
    fake.main = lambda argv=None, exit_process=False: calls.append(exit_process) or 0
    monkeypatch.setitem(sys.modules, "poolside.gui.app", fake)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "_loads", lambda name: True)
    assert launcher([]) == 0
    assert calls == [True]  # the command's window ends the process when it closes


# -- the desktop entry ---------------------------------------------------------------------------


def test_install_desktop_writes_the_entry_and_icon_in_the_xdg_data_folder(monkeypatch, tmp_path, capsys):
    if sys.platform == "darwin" or sys.platform == "win32":
        pytest.skip("freedesktop.org entries are for Linux and BSD")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert launcher(["--install-desktop"]) == 0
    entry = tmp_path / "applications" / "poolside.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "poolside.svg"
    text = entry.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert f"\nExec={sys.executable} -m poolside.gui\n" in text
    assert "\nIcon=poolside\n" in text and "\nName=Poolside\n" in text
    assert icon.read_bytes() == resource("icons", "poolside.svg").read_bytes()
    assert str(entry) in capsys.readouterr().out


def test_the_xdg_data_folder_follows_the_spec(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home({"XDG_DATA_HOME": "/x/share"}) == desktop.Path("/x/share")
    assert desktop.data_home({"XDG_DATA_HOME": "relative"}) == tmp_path / ".local" / "share"
    assert desktop.data_home({}) == tmp_path / ".local" / "share"


def test_exec_line_quotes_an_interpreter_path_with_spaces():
    assert desktop.exec_line("/opt/my apps/bin/python") == '"/opt/my apps/bin/python" -m poolside.gui'
    assert desktop.exec_line('/a/$b') == '"/a/\\\\$b" -m poolside.gui'


# -- quitting --------------------------------------------------------------------------------------

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
                          timeout=60)
    assert done.returncode == 3, done.stderr
    first, *rest = done.stdout.splitlines()
    assert rest == ["handler ran"]
    import psutil

    for pid in map(int, first.split()):  # the parked workers ended with it, none left behind
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


class _StuckWorker:
    """A parked worker that ignores EOF: join() waits its whole timeout (on a fake clock)."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.alive = True
        self.killed = False
        self.tasks = types.SimpleNamespace(close=lambda: None)
        self.process = self
        self.method = "fake"

    def join(self, timeout: float | None = None) -> None:
        if self.alive and timeout is not None:
            self.clock[0] += timeout

    def is_alive(self) -> bool:
        return self.alive

    def kill(self) -> None:
        self.killed, self.alive = True, False

    def close(self) -> None:
        pass


def test_stop_idle_workers_waits_for_all_at_once_not_one_after_another(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(_parking, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    stuck = [_StuckWorker(clock) for _ in range(4)]
    monkeypatch.setitem(_parking._parked, "fake", list(stuck))
    workers.stop_idle_workers()
    assert all(w.killed for w in stuck)
    # One grace period for all four, not four in a row.
    assert clock[0] == pytest.approx(_parking._STOP_GRACE_S)
    assert "fake" not in _parking._parked


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
