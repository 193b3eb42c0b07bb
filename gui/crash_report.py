"""What a bug report needs, one click away: versions, the machine and the last log lines.

    poolside logger ──► LogBuffer (the last 200 lines, kept by the window)
                                 │
    sys.excepthook ──► CrashDialog(details(exception)) ◄── Help ▸ Diagnostic details…
                                 └─ "Copy details" puts the text on the clipboard

The window installs the buffer when it opens, so a report always carries the
engine's lifecycle (workers started, killed, replaced; run start and end) that
led up to the problem, whether or not ``POOLSIDE_LOG`` was set.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from poolside.log import DATEFMT, FORMAT, LOGGER, enable

#: Enough lines for a few runs' lifecycle; a line is ~120 bytes, so ~25 KB.
LOG_LINES = 200


class LogBuffer(logging.Handler):
    """A logging handler that keeps the last ``capacity`` formatted lines."""

    def __init__(self, capacity: int = LOG_LINES) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT, DATEFMT))
        self._lines: deque[str] = deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def lines(self) -> list[str]:
        return list(self._lines)


_buffer: LogBuffer | None = None


def log_buffer() -> LogBuffer:
    """The window's buffer on the ``poolside`` logger, installed once per process."""
    global _buffer
    if _buffer is None:
        _buffer = LogBuffer()
        logging.getLogger(LOGGER).addHandler(_buffer)
        enable(logging.DEBUG)  # lifecycle lines only: a handful per run, never one per item
    return _buffer


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import PySide6

    try:
        poolside_version = version("poolside")
    except PackageNotFoundError:
        poolside_version = "not installed (run from a checkout)"
    return {
        "Poolside": poolside_version,
        "Python": f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "OS": platform.platform(),
    }


def machine() -> dict[str, str]:
    from poolside.system import system_info

    info = system_info()
    return {
        "CPU": info.cpu_model,
        "Cores": f"{info.logical_cores} logical, {info.physical_cores} physical, {info.usable_cores} usable",
        "Memory": f"{info.memory_bytes / 2**30:.1f} GiB",
        "Platform": info.platform,
    }


def details(exc: BaseException | None = None, log_lines: list[str] | None = None) -> str:
    """The report as plain text: paste-able into an issue as it is."""
    parts = ["Poolside diagnostic details", ""]
    parts += [f"{k}: {v}" for k, v in versions().items()]
    try:
        parts += [f"{k}: {v}" for k, v in machine().items()]
    except Exception as e:  # the report must not fail for want of a fact
        parts.append(f"Machine: unknown ({e!r})")
    if exc is not None:
        parts += ["", "Unhandled exception:", "".join(traceback.format_exception(exc)).rstrip()]
    lines = log_buffer().lines() if log_lines is None else log_lines
    parts += ["", f"Last {len(lines)} log lines:", *lines]
    return "\n".join(parts) + "\n"


class CrashDialog(QDialog):
    """Shows the report; "Copy details" puts it on the clipboard."""

    def __init__(self, text: str, *, crashed: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poolside: something went wrong" if crashed else "Diagnostic details")
        self.setObjectName("CrashDialog")
        intro = QLabel(
            "Poolside hit an unexpected error. The details below help fix it: "
            "copy them into a bug report." if crashed else
            "Versions, the machine and the last log lines: copy them into a bug report.", self)
        intro.setWordWrap(True)
        self.text = QPlainTextEdit(text, self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Diagnostic details")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setAccessibleName("Copy details")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(900, 560)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        self.copy_button.setText("Copied")


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def install_excepthook(parent: Callable[[], QWidget | None]) -> ExceptHook:
    """Show the report for an exception nothing caught (a slot that raised); return the old hook.

    The exception is logged (so it is in the report's log lines and on stderr
    when the log is on) and the previous hook still runs.  A second exception
    while a report is open adds no second dialog.
    """
    previous = sys.excepthook
    showing: list[CrashDialog] = []

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        previous(kind, exc, tb)
        if issubclass(kind, KeyboardInterrupt):
            return
        # One line in the log; the report below the versions carries the traceback.
        logging.getLogger("poolside.gui").error("unhandled exception: %s: %s", kind.__name__, exc)
        if showing or QGuiApplication.instance() is None or threading.current_thread() is not threading.main_thread():
            return  # widgets belong to the GUI thread: from elsewhere, the log line is the report
        dialog = CrashDialog(details(exc), crashed=True, parent=parent())
        showing.append(dialog)
        dialog.finished.connect(lambda _result: showing.clear())
        dialog.open()

    sys.excepthook = hook
    return previous
