"""The window's side of an observation: start the observe host, read what it sends, stop it.

    ObserveClient.start(command | pid) ─► python -m poolside.observe.host FD PARENT_PID
        reader thread: ObserveUpdate ─► on_update(update)      (hand them to the GUI thread:
                       ObserveFinished ─► on_finished(finish)   gui/pump.py)
    stop()  ─► StopObserve: the observation ends, the program goes on
    close() ─► the host has exited and the reader thread has ended (the window calls it on close)

No Qt here.  The host is started with ``subprocess`` (fork+exec at once), so
nothing of the window's threads runs in it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

from ..host.protocol import ObserveFinished, ObserveUpdate, StartObserve, StopObserve, dumps, loads
from ..log import get_logger
from ..usage import DEFAULT_INTERVAL_S

log = get_logger(__name__)

#: How long a host that was asked to stop may take to send its record before it is ended.
STOP_GRACE_S = 10.0


class ObserveClient:
    def __init__(self, on_update: Callable[[ObserveUpdate], None],
                 on_finished: Callable[[ObserveFinished], None]) -> None:
        self.on_update = on_update
        self.on_finished = on_finished
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def start(self, command: Sequence[str] | None = None, pid: int | None = None,
              interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.close()
        mine, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "poolside.observe.host", str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        self._conn = Connection(mine.detach())
        self._conn.send_bytes(dumps(StartObserve(tuple(command) if command else None, pid, interval_s)))
        self._reader = threading.Thread(target=self._read, name="poolside-observe-client", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        conn = self._conn
        assert conn is not None
        finished: ObserveFinished | None = None
        try:
            while finished is None:
                message = loads(conn.recv_bytes())
                if isinstance(message, ObserveUpdate):
                    self.on_update(message)
                elif isinstance(message, ObserveFinished):
                    finished = message
        except (EOFError, OSError) as e:
            code = self._proc.poll() if self._proc is not None else None
            log.warning("the observe host ended without a record (exit code %s): %s", code, e)
            finished = ObserveFinished(None, None, None, None, None,
                                       f"the observe host ended early (exit code {code})", False)
        self.on_finished(finished)

    def stop(self) -> None:
        """End the observation (not the program); the record follows through on_finished."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send_bytes(dumps(StopObserve()))
                except OSError as e:  # the host is gone: its reader says so
                    log.info("the observe host is gone: %s", e)

    def close(self) -> None:
        """Stop, then wait for the host and the reader to end (each within STOP_GRACE_S, else ended)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self.stop()
            try:
                self._proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                log.warning("the observe host did not end in %.0f s: ending it", STOP_GRACE_S)
                self._proc.kill()  # only the host: the observed program is in a session of its own
                self._proc.wait()
        if self._reader is not None:
            self._reader.join(STOP_GRACE_S)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
        self._proc, self._reader = None, None

    def host_pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

