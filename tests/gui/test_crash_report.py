"""The crash report: versions, the machine and the last log lines, one "Copy details" away."""

from __future__ import annotations

import logging
import sys

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from poolside import run
from poolside.gui import crash_report
from poolside.gui.crash_report import CrashDialog, LogBuffer, details, install_excepthook, log_buffer
from poolside.gui.main_window import MainWindow


def test_the_log_buffer_keeps_the_last_lines_formatted():
    buffer = LogBuffer(capacity=3)
    logger = logging.getLogger("poolside.test-buffer")
    logger.addHandler(buffer)
    logger.setLevel(logging.DEBUG)
    try:
        for i in range(5):
            logger.info("line %d", i)
    finally:
        logger.removeHandler(buffer)
    lines = buffer.lines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["2", "3", "4"]
    assert "INFO" in lines[0] and "poolside.test-buffer" in lines[0]


def test_details_gather_versions_machine_exception_and_the_engine_lifecycle():
    log_buffer()  # what the window installs
    list(run(abs, range(10), backend="threads", workers=2))
    try:
        raise ValueError("the bug")
    except ValueError as exc:
        text = details(exc)
    for key in ("Poolside: ", "Python: ", "Qt: ", "PySide6: ", "OS: ", "CPU: ", "Cores: "):
        assert f"\n{key}" in text, key
    assert "ValueError: the bug" in text and "Traceback" in text
    assert "run started: threads x2" in text and "run ended: 10 items" in text  # the last log lines


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.run_ws.files.shutdown()


def test_help_menu_shows_the_details_and_copies_them(qtbot, window):
    dialog = window.show_details()
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and "Diagnostic details" in dialog.windowTitle()
    assert dialog.copy_button.text() == dialog.copy_button.accessibleName() == "Copy details"
    dialog.copy_button.click()
    copied = QApplication.clipboard().text()
    assert copied == dialog.text.toPlainText() and copied.startswith("Poolside diagnostic details")
    assert window.details_action.text() == "Diagnostic details…"


def test_an_unhandled_exception_opens_the_report(qtbot, window, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc_info: seen.append(exc_info[0]))
    previous = install_excepthook(lambda: window)
    try:
        try:
            raise RuntimeError("a slot broke")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = previous
    assert seen == [RuntimeError]  # the previous hook still prints it
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog) and w.isVisible()]
    assert len(dialogs) == 1
    qtbot.addWidget(dialogs[0])
    text = dialogs[0].text.toPlainText()
    assert "RuntimeError: a slot broke" in text and "something went wrong" in dialogs[0].windowTitle()
    assert any("unhandled exception: RuntimeError" in line for line in crash_report.log_buffer().lines())
