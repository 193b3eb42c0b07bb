"""Waiting for a run on the terminal: the progress line, and the signals that cancel it.

    wait_for(job) ─ every 0.1 s ─► RunSignals.follow() (pause, stop after current items)
                                ─► Console.progress (the ETA from the forecast, once the inputs are read)
    Ctrl-C, SIGTERM, SIGHUP ─► cancel (a watch: stop watching first) ─► wait for every outcome
                             ─► the same or another signal again: stop waiting
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

from ..inputs import Expansion
from . import watch
from .console import Console
from .controls import RunSignals


class _Stop(BaseException):
    """SIGTERM or SIGHUP arrived: stop the run as Ctrl-C does (a BaseException, as KeyboardInterrupt is)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# What `kill`, `timeout`, systemd, `docker stop` and CI send (SIGTERM), and a closing terminal
# (SIGHUP): by default they end the process at once, with no cancelled records and no summary.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """While a run lasts, SIGTERM and SIGHUP raise :class:`_Stop` in the main thread."""
    def stop(signum: int, frame: Any) -> None:
        raise _Stop(signum)

    previous = {}
    try:
        for sig in _STOP_SIGNALS:
            previous[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread (an embedding caller): leave signals alone
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_for(job: Any, console: Console, items: Expansion, folders: Any = None,
          signals: RunSignals | None = None,
          forecast: Callable[[int], float | None] | None = None) -> int | None:
    """Wait for ``job``, drawing progress; return the signal that stopped it, if one did.

    ``forecast(total)``: asked once the inputs are all read, for the ETA to start from (a terminal only).

    Ctrl-C, SIGTERM and SIGHUP all cancel the run and wait for every item's
    outcome to be recorded; the same or another signal again stops waiting.
    A watch (``folders``) is stopped by the first of them instead: the run
    then ends as a run that went to its end, and a second one cancels it.
    ``signals``: the pause and stop signals, acted on here (see :mod:`.controls`).
    """
    predicted: float | None = None
    asked = forecast is None or not console.tty
    with _stop_signals_raise():
        try:
            while not job.wait(0.1):
                if signals is not None:
                    signals.follow()
                if not asked and forecast is not None and getattr(items, "done", True):
                    asked = True  # a resume's items are a list: all read from the start
                    predicted = forecast(items.yielded if isinstance(items, Expansion) else len(items))
                console.progress(job.summary, items, predicted)
            return None
        except (KeyboardInterrupt, _Stop) as stop:
            signum = stop.signum if isinstance(stop, _Stop) else signal.SIGINT
            if folders is not None and not folders.stopped:
                watch.stop_watching(folders, console, signal.Signals(signum).name)
                return wait_for(job, console, items, signals=signals)
            job.cancel()  # first: after a hang-up, even the message below may fail to print
            try:
                console.clear_progress()
                if signum == signal.SIGINT:
                    console.err("interrupted: cancelling (Ctrl-C again to stop waiting)")
                else:
                    console.err(f"{signal.Signals(signum).name}: cancelling (send it again to stop waiting)")
            except OSError:
                pass  # the terminal is gone (SIGHUP): the records still get written
            try:
                job.wait()
            except (KeyboardInterrupt, _Stop):
                pass
            return int(signum)
