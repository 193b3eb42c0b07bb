"""Tasks that hurt the process they run in, for the run host's tests (loaded by path)."""

import ctypes
import threading
import time

from poolside.plugins import plugin


@plugin
def crash_on(item, marker: str = "boom") -> str:
    """Segfault on items whose names contain the marker; echo the others."""
    if marker in str(item):
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    return str(item)


@plugin(bound="cpu")
def spin(item, seconds: float = 0.5) -> int:
    """Pure Python for a while: holds the GIL and cannot be interrupted."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


@plugin
def lock_on(item, marker: str = "lock") -> object:
    """Return a lock (which does not pickle) for items whose names contain the marker."""
    return threading.Lock() if marker in str(item) else str(item)
