"""The dispatcher's side of the worker pipes: one poll set, and whole messages read without blocking.

Data flow, per pass of the engine's dispatcher loop (``ProcessBackend.poll``)::

    Poller.wait(handles)  ── one poll() syscall ──►  the pipes and sentinels ready now
    FrameReader.read()    ── one read() per ready pipe, as much as is there ──►
                             every whole message in it (a partial one waits
                             in the buffer for the next pass)

Why: the engine's thread shares the GIL with the caller's thread, which is
busy taking outcomes, and every system call hands the GIL over and waits to
get it back.  ``multiprocessing.connection.wait()`` builds a selector and
registers every handle anew on each call, and ``Connection.poll()`` does the
same for one pipe; ``recv_bytes()`` reads a message's header and body in two
calls.  Per results batch that was a wait, then poll, header, body, poll: five
system calls and two selectors (on 200,000 tiny items, ~400 selectors and
~1,000 system calls a run).  Here a batch costs one poll and one read.

The messages are ``Connection.send_bytes`` frames: a signed 4-byte big-endian
length (``-1``: an 8-byte length follows), then the bytes.
"""

from __future__ import annotations

import os
import select
import struct
from collections.abc import Sequence
from typing import Any

# The buffer each pipe is read into; a pipe holds 64 KiB by default, so one
# read empties it.  A message bigger than the buffer grows it.
_BUFFER_BYTES = 1 << 17
# What a result pipe may hold (Linux's F_SETPIPE_SZ; elsewhere the system's
# size stays).  A worker blocks once its pipe is full, and the engine's thread
# reads it only when it holds the GIL, which a consumer busy taking outcomes
# gives up for it at most once a switch interval (5 ms).  The default 64 KiB
# is one batch of 2,500 tiny items (values and two arrays of timings): the
# worker then waited on its second.  Capacity counts against a per-user
# budget of pipe memory (pipe-user-pages-soft, 64 MiB by default), so a few
# batches' worth, not the 1 MiB maximum.
PIPE_BYTES = 1 << 18
_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")


def widen(fd: int, size: int) -> None:
    """Ask for a pipe of ``size`` bytes; a system that says no keeps its size (said in the log)."""
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None or size <= 0:
        return
    try:
        fcntl.fcntl(fd, set_size, size)
    except OSError as exc:  # over the user's pipe budget, or not a pipe: slower, not wrong
        from ..log import get_logger

        get_logger(__name__).debug("a result pipe keeps the system's size (%d bytes asked): %s", size, exc)


class FrameReader:
    """Reads the messages a worker wrote to its result pipe, never blocking.

    It owns the pipe's read end from its creation: the descriptor is made
    non-blocking, so ``Connection.recv_bytes()`` must not be used on it again.
    Lives as long as the worker (a parked worker keeps it across runs, so a
    message half read at the end of a run is completed by the next).  Reads go
    into one buffer it keeps (``os.readv``): a fresh 1 MB ``bytes`` per read
    would be a fresh mapping, its pages faulted in on every read.
    """

    __slots__ = ("fd", "_buffer", "_start", "_end")

    def __init__(self, conn: Any) -> None:
        self.fd = conn.fileno()
        os.set_blocking(self.fd, False)
        widen(self.fd, PIPE_BYTES)
        self._buffer = bytearray(_BUFFER_BYTES)
        self._start = 0  # the first unread message begins here
        self._end = 0  # bytes read end here

    def read(self) -> tuple[list[bytes], bool]:
        """Every whole message readable now, and whether the writer has closed its end (EOF)."""
        eof = False
        while True:
            if self._end == len(self._buffer):
                self._make_room()
            room = len(self._buffer) - self._end
            try:
                with memoryview(self._buffer) as view:
                    n = os.readv(self.fd, [view[self._end:]])
            except BlockingIOError:
                break
            if n == 0:
                eof = True
                break
            self._end += n
            if n < room:
                break  # the pipe is empty now: spare the call that would say so
        return self._frames(), eof

    def _make_room(self) -> None:
        """Move the unread part to the front, or grow the buffer for a message bigger than it."""
        if self._start:
            self._buffer[:self._end - self._start] = self._buffer[self._start:self._end]
            self._end -= self._start
            self._start = 0
        else:
            self._buffer.extend(bytes(len(self._buffer)))

    def _frames(self) -> list[bytes]:
        buffer, start, end = self._buffer, self._start, self._end
        frames = []
        with memoryview(buffer) as view:
            while end - start >= 4:
                size = _SHORT.unpack_from(buffer, start)[0]
                head = 4
                if size == -1:
                    if end - start < 12:
                        break
                    size = _LONG.unpack_from(buffer, start + 4)[0]
                    head = 12
                if end - start < head + size:
                    break
                frames.append(bytes(view[start + head:start + head + size]))
                start += head + size
        if start == end:
            start = end = 0
        self._start, self._end = start, end
        return frames


class Poller:
    """A ``poll()`` set kept from one wait to the next; rebuilt only when the handles change."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] = ()
        self._poll = select.poll()
        self._by_fd: dict[int, Any] = {}

    def wait(self, handles: Sequence[Any], timeout: float | None) -> list[Any]:
        """The handles (connections or file descriptors) ready to read, or at EOF, within ``timeout`` s."""
        key = tuple(handles)
        if key != self._key:
            self._rebuild(key)
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        by_fd = self._by_fd
        return [by_fd[fd] for fd, _ in self._poll.poll(ms)]

    def _rebuild(self, handles: tuple[Any, ...]) -> None:
        self._poll = select.poll()
        self._by_fd = {}
        for handle in handles:
            fd = handle if isinstance(handle, int) else handle.fileno()
            self._by_fd[fd] = handle
            self._poll.register(fd, select.POLLIN)  # POLLHUP and POLLERR are always reported
        self._key = handles
