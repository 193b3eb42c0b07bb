"""``python -m poolside.observe.host FD PARENT_PID``: the window's observations run here, not in the window.

    client (the window)                    this host
      StartObserve(command | pid) ──────►  Session.launch / attach ── Observer thread
                                  ◄──────  ObserveUpdate (≤ UPDATES_PER_S; recent, series, busy threads)
      StopObserve ──────────────────────►  session.stop(): the observation ends, the program goes on
                                  ◄──────  ObserveFinished(record, series, history id)   then exit

Why a process of its own: the window's process runs Qt's threads, and a
command forked from it would copy them (the project's rule: never fork a
process that runs threads).  The host forks and execs the command at once
(``subprocess``), in a session of its own (``start_new_session``), so that
neither the window's signals nor this host's end (it dies with the window:
``PR_SET_PDEATHSIG``) reach the observed program: Stop ends the observation
only.  No Qt here.
"""

from __future__ import annotations

import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from ..host.hosting import Wire, die_with_parent
from ..host.protocol import ObserveFinished, ObserveUpdate, StartObserve, StopObserve, loads
from ..log import get_logger
from ..words import observe as say
from .sampler import Observer

log = get_logger(__name__)

#: Live updates a second at most: the window redraws at this pace, whatever the sampling rate.
UPDATES_PER_S = 2.0


def busy_threads(observer: Observer, times: Any) -> Any:
    """How many of the main process's threads were busy (running, or runnable and waiting for a core,
    ≥ 10 % of the interval) at each of ``times`` (s since the start): the Cores views' threads lane."""
    import numpy as np

    main = observer.processes.get(observer.root)
    times = np.asarray(times, dtype=float)
    out = np.zeros(len(times))
    if main is None or not len(times):
        return out
    for thread in list(main.threads.values()):
        samples = np.asarray(list(thread.samples), dtype=float).reshape(-1, 3)
        busy = samples[:, 1] + samples[:, 2] >= 0.10
        # The Monitor samples just after the observer, on one clock: each to the first time at or after it.
        at = np.clip(np.searchsorted(times, samples[busy, 0] - 1e-3), 0, len(times) - 1)
        np.add.at(out, at, 1)
    return out


def _main_times(series: dict[str, Any]) -> Any:
    """The main process's sample times in a series (the tree's, if it has none)."""
    return next((p["t"] for p in series["processes"] if p["role"] == "host"), series["t"])


class _Live:
    """Sends the live view from the observer's thread, at most UPDATES_PER_S."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._next = 0.0

    def __call__(self, observer: Observer) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 1.0 / UPDATES_PER_S
        series = observer.series()
        main_t = _main_times(series)
        tracks = observer.snapshot()
        workers = sum(1 for p in tracks if p.role.role == "worker" and not p.ended)
        line = (f"{len(tracks)} processes seen, {workers} workers running"
                + (f"; {say.not_seen(list(observer.not_seen.values()))}" if observer.not_seen else ""))
        self.wire.send(ObserveUpdate(observer.monitor.recent(60.0), series, busy_threads(observer, main_t), line))


def serve(conn: Connection) -> int:
    from .session import ObserveError, Session

    wire = Wire(conn)
    start = loads(conn.recv_bytes())
    if not isinstance(start, StartObserve):
        log.error("observe host: expected StartObserve, got %r", type(start).__name__)
        return 2
    live = _Live(wire)
    try:
        if start.pid is not None:
            session = Session.attach(start.pid, interval_s=start.interval_s, on_sample=live)
        else:
            session = Session.launch(start.command or (), interval_s=start.interval_s, on_sample=live,
                                     new_session=True)
    except ObserveError as e:
        wire.send(ObserveFinished(None, None, None, None, None, str(e), False))
        return 1
    threading.Thread(target=_listen, args=(conn, session), name="observe-listen", daemon=True).start()
    while not session.wait(0.2):
        pass
    record = session.record()
    series = session.observer.series()
    history_id, history_error = _keep(record, series)
    busy = busy_threads(session.observer, _main_times(series))
    wire.send(ObserveFinished(record, series, busy, history_id, history_error, None, session.interrupted))
    return 0


def _listen(conn: Connection, session: Any) -> None:
    """StopObserve, or the window gone (EOF): either ends the observation, never the program."""
    try:
        while True:
            if isinstance(loads(conn.recv_bytes()), StopObserve):
                break
    except (EOFError, OSError):
        pass
    session.stop()


def _keep(record: dict[str, Any], series: dict[str, Any]) -> tuple[int | None, str | None]:
    from ..history import HistoryError
    from ..history.observations import record_observation

    try:
        return record_observation(record, series), None
    except HistoryError as e:
        return None, str(e)


def main(argv: list[str]) -> int:
    fd, parent = int(argv[0]), int(argv[1])
    die_with_parent(parent)
    with Connection(fd) as conn:
        return serve(conn)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
