"""Steering a live ``poolside run``: SIGUSR1 pauses and resumes it, SIGUSR2 stops it after its current items.

    kill -USR1 PID ──► handler: noted ──► the wait loop (main thread, every 0.1 s) ──► job.pause() / resume()
    kill -USR2 PID ──► handler: noted ──►                                          ──► job.stop_after_current()

Why these signals: Ctrl-C already cancels (SIGINT, and SIGTERM, SIGHUP), and
Ctrl-Z (SIGTSTP) belongs to the shell's job control: it stops the whole
process group at once, workers mid-item with their timeouts still counting,
and ``fg`` must keep meaning "go on".  SIGUSR1 and SIGUSR2 are the two
signals Unix leaves to programs (``dd`` reports on USR1, servers reopen logs
or upgrade on them), so a run started from a terminal, a script or a service
can be steered alike, with no terminal at all.  Send them to the run's own
process (its pid is printed at the start on a terminal), not to its workers.

The handlers only note the signal: the console's lock is not re-entrant and
a handler runs on the main thread, perhaps inside a write; the wait loop acts
on it and says what happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from .console import Console

PAUSE_SIGNAL = getattr(signal, "SIGUSR1", None)
STOP_SIGNAL = getattr(signal, "SIGUSR2", None)


class RunSignals:
    """The pause and stop signals of one run, noted by their handlers and acted on by :meth:`follow`."""

    def __init__(self, job: Any, console: Console, on_stop: Callable[[], None] | None = None,
                 history: Any = None) -> None:
        """``on_stop``: also called at a stop (a watch ends its watching); ``history``: the run's
        ``RunRecorder``, whose row says "paused" while the run is."""
        self.job = job
        self.history = history
        self.console = console
        self._on_stop = on_stop
        self._noted: deque[int] = deque()
        #: The run was stopped after its current items by a signal.
        self.stopped = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[RunSignals]:
        """While the run lasts, the signals are noted (no-op where they do not exist or off the main thread)."""
        previous = {}
        try:
            for sig in (PAUSE_SIGNAL, STOP_SIGNAL):
                if sig is not None:
                    previous[sig] = signal.signal(sig, self._note)
        except ValueError:  # not the main thread (an embedding caller): leave signals alone
            pass
        if previous and self.console.tty:
            pid = os.getpid()
            self.console.err(f"pid {pid}: kill -USR1 {pid} pauses and resumes, kill -USR2 {pid} stops after "
                             "the current items")
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _note(self, signum: int, frame: Any) -> None:
        self._noted.append(signum)

    def follow(self) -> None:
        """Act on the signals noted since the last call (the wait loop's thread)."""
        while self._noted:
            signum = self._noted.popleft()
            if signum == STOP_SIGNAL:
                self._stop()
            elif self.job.paused:
                self.job.resume()
                self._say_paused(False)
                self.console.err("resumed")
            elif not self.job.stopping:
                self.job.pause()
                self._say_paused(True)
                self.console.err("paused: no new item starts, the running ones finish (SIGUSR1 again resumes, "
                                 "SIGUSR2 stops, Ctrl-C cancels)")

    def _say_paused(self, paused: bool) -> None:
        if self.history is not None:
            self.history.set_paused(paused)

    def _stop(self) -> None:
        if self.job.stopping:
            return
        self.job.stop_after_current()
        self._say_paused(False)
        if self._on_stop is not None:
            self._on_stop()
        self.stopped = True
        self.console.err("stopping after the current items: they finish, the rest end cancelled "
                         "(Ctrl-C cancels the running ones)")
