"""What the window tests share: a real window on settings of its own, shown, that closes without asking,
and a driver that works it the way a person does (files, a task, a backend, Run) so that the tests say
what they do, not where each control lives."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QSettings, Qt

from poolside.gui.main_window import MainWindow
from poolside.records import Outcome, Summary
from tests.waits import WAIT_MS


def open_window(qtbot: Any, tmp_path: Any, **kwargs: Any) -> MainWindow:
    """A shown window whose settings live in ``tmp_path``; closing it never asks (each test tears down its own way).

    ``kwargs`` go to :class:`MainWindow` (``study_client``, ``history``)."""
    w = MainWindow(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat), **kwargs)
    w.confirm_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    return w


def run_in_bridge(qtbot: Any, spec: Any, items: list) -> tuple[Any, list]:
    """Run ``spec`` over ``items`` through a RunBridge and its run host: (the summary, the rows it gave)."""
    from poolside.gui.bridge import RunBridge

    bridge = RunBridge()
    rows: list = []
    bridge.outcomesReady.connect(rows.extend)
    try:
        with qtbot.waitSignal(bridge.finished, timeout=WAIT_MS) as blocker:
            bridge.start(spec, items)
    finally:
        bridge.shutdown()
    return blocker.args[0], rows


class WindowDriver:
    """The Run tab of ``window`` as a person uses it.  Every wait is on a signal, bounded by ``WAIT_MS``."""

    def __init__(self, qtbot: Any, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.window = window
        self.run_ws = window.run_ws

    def close(self) -> None:
        """Close the window as a person would: a run is cancelled, the run host and the scanner end."""
        if self.window.isVisible():
            self.window.close()
        assert not self.window.running

    # -- the input ----------------------------------------------------------------
    def add_files(self, paths: Iterable[str | os.PathLike]) -> None:
        """Add files and folders as the Add buttons do; returns once every folder has been scanned."""
        paths = [os.fspath(p) for p in paths]
        if any(os.path.isdir(p) for p in paths):
            with self.qtbot.waitSignal(self.run_ws.files.scanner.finished, timeout=WAIT_MS):
                self.run_ws.files.add_paths(paths)
        else:
            self.run_ws.files.add_paths(paths)

    def add_items(self, names: Iterable[str]) -> None:
        """List items by name without looking at the disk (a task that does not read its item)."""
        self.run_ws.files.model.add((str(n), 0) for n in names)

    def files(self) -> list[str]:
        """The paths a run would get (those the chosen task accepts)."""
        return self.run_ws.files.model.paths()

    # -- the task -----------------------------------------------------------------
    def load_plugin_file(self, path: str | os.PathLike) -> list[Any]:
        return self.run_ws.task.load_plugin_file(os.fspath(path))

    def choose_plugin(self, name: str, **params: Any) -> Any:
        """Pick the plugin ``name`` and set its parameters as its form's editors would."""
        assert self.run_ws.task.select(name), f"no plugin {name!r}"
        self.set_params(**params)
        return self.run_ws.task.current_plugin()

    def set_params(self, **params: Any) -> None:
        for key, value in params.items():
            self.run_ws.task.form.set_value(key, value)

    def params(self) -> dict[str, Any]:
        """What the form's editors hold, before conversion."""
        return self.run_ws.task.form.raw_values()

    def problems(self) -> str:
        return self.run_ws.task.problems.text()

    # -- the backend --------------------------------------------------------------
    def choose_backend(self, name: str, workers: int | None = None, **fields: Any) -> None:
        """Pick the backend, and its workers, chunk size, method, timeout or order if given."""
        assert self.run_ws.backend.set_backend(name), f"no backend {name!r}"
        self.run_ws.backend.apply(workers=workers, **fields)

    # -- the run ------------------------------------------------------------------
    def start_run(self) -> bool:
        return self.run_ws.start_run()

    def run_and_wait(self) -> Summary:
        """Press Run and wait for the run to end; the run's summary.  Run and Cancel swap while it runs."""
        with self.qtbot.waitSignal(self.window.runFinished, timeout=WAIT_MS) as blocker:
            assert self.run_ws.start_run(), self.problems()
            assert not self.run_ws.run_action.isEnabled()  # no second run while one is going
            assert self.run_ws.cancel_action.isEnabled()
        assert self.run_ws.run_action.isEnabled() and not self.run_ws.cancel_action.isEnabled()
        return blocker.args[0]

    def start_and_wait_for_outcomes(self) -> None:
        """Press Run and return once the first outcomes reached the window."""
        with self.qtbot.waitSignal(self.window.bridge.outcomesReady, timeout=WAIT_MS):
            assert self.run_ws.start_run(), self.problems()

    def press_escape_and_wait(self) -> Summary:
        """Press Esc (the Cancel shortcut) during a run; the run's summary once it ended."""
        with self.qtbot.waitSignal(self.window.runFinished, timeout=WAIT_MS) as blocker:
            self.qtbot.keyClick(self.window, Qt.Key.Key_Escape)
        return blocker.args[0]

    # -- what the window shows ----------------------------------------------------
    def outcomes(self) -> list[Outcome]:
        """Every outcome in the results table, in arrival order."""
        return self.run_ws.results.model.outcomes()

    def headline(self) -> str:
        return self.run_ws.progress.headline.text()

    def gil_bound_bars(self) -> int:
        """How many of the timeline's bars are drawn pale: items that ran while the process had
        less than a core for each busy thread (the GIL serialising them)."""
        return int(self.run_ws.timeline.contended().sum())

    def timeline_bars(self) -> int:
        return self.run_ws.timeline.shown

    def workers_headline(self) -> str:
        """The Cores panel's Workers tab, shown, and its headline (busy threads against cores used
        for a backend whose items run in the run host's threads; worker processes otherwise)."""
        cores = self.run_ws.cores
        cores.tabs.setCurrentWidget(cores.workers)
        return cores.workers.headline_text()
