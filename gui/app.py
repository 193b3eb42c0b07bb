"""``main()``: create the application, show the window, run the event loop.

``poolside`` with no arguments calls this; so does ``python -m gui``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def freeze_startup_heap() -> None:
    """Take what start-up built out of the garbage collector's sight (``gc.freeze``).

    Qt's wrappers, pyqtgraph and the imports leave ~85,000 long-lived objects
    that every full collection walks: 35-42 ms measured, and CPython runs one
    on its own whenever enough young objects survive, which is what a study or
    a run streaming results into the window does.  Those pauses were the
    window's worst stalls (50-80 ms with a study streaming in); frozen, a full
    collection takes well under a millisecond.  Objects made later are
    collected as usual.  (Instagram's web servers do the same at start-up.)
    """
    import gc

    gc.collect()
    gc.freeze()


def main(argv: Sequence[str] | None = None, *, exit_process: bool = False, paths: Sequence[str] = ()) -> int:
    """Open the Poolside window; return the event loop's exit code.

    ``paths``: files and folders to add, or job files to open (``poolside PATH...``, a file manager).

    With ``exit_process`` (the ``poolside`` command) the process ends as soon
    as the window has closed: see :func:`exit_now`.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from . import settings
    from .crash_report import install_excepthook
    from .main_window import MainWindow
    from .theme import app_icon

    args = list(sys.argv[:1] if argv is None else ["poolside", *argv])
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(args)
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("Poolside")
    app.setDesktopFileName("poolside")
    app.setWindowIcon(app_icon())
    window = MainWindow()
    previous_hook = install_excepthook(lambda: window)
    window.show()
    if paths:
        window.open_paths(list(paths))
    freeze_startup_heap()
    window.warm()  # the run host and the forecast's thread start while the person picks files
    try:
        code = int(app.exec())
    finally:
        sys.excepthook = previous_hook
    if exit_process:
        exit_now(code)
    return code


def exit_now(code: int) -> NoReturn:
    """End the process now that the window has closed and saved its settings.

    The exit handlers run first (parked workers are stopped, all at once; the
    log is flushed), then ``os._exit`` skips the interpreter's teardown: freeing
    every Qt object, pyqtgraph's scene and a results model that may hold a
    million outcomes one by one, which is where quitting spent its time
    (measured offscreen, idle: 90-150 ms from Quit to exit before, 11-13 ms
    after; the teardown grows with what the window holds).  pyqtgraph's own
    ``exit()`` does the same.
    """
    import atexit

    try:
        atexit._run_exitfuncs()  # the handlers registered with atexit, last first
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass  # a closed or missing stream (pythonw)
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
