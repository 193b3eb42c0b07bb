"""The task functions every contender runs.

They live in an importable module, not in a closure or ``__main__``, because
worker processes (forked, forkserver'd or spawned, whatever each library does)
import them by name.  This module imports only the standard library, so no
contender's workers pay for anything the others do not.
"""

from __future__ import annotations

import hashlib
import os
import time

# When this module was imported, in the process that imported it: for a worker forked
# from a server that preloads it, the server's import (benchmarks.coldstart's timeline).
IMPORTED_AT = time.perf_counter()

# The item that crashes or hangs in the resilience workloads.
CULPRIT = 50
# How long each item of the resilience workloads sleeps: long enough that the
# crash happens with other items in flight, as in a real run.
RESILIENCE_ITEM_S = 0.01


def square(x: int) -> int:
    """The tiny item: all overhead, no work."""
    return x * x


def burn(n: int) -> int:
    """Pure-Python CPU work that holds the GIL; ``n`` is calibrated to ~100 ms."""
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def nap(seconds: float) -> float:
    """An item that only waits (I/O-bound): it releases the GIL while it sleeps."""
    time.sleep(seconds)
    return seconds


def sha256_file(path: str) -> str:
    """Read a file and hash it; hashlib releases the GIL for large buffers."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def sha256_stamped(path: str) -> tuple[int, float, float, float]:
    """``sha256_file`` that says where and when it ran: (pid, start, end, IMPORTED_AT), perf_counter seconds."""
    start = time.perf_counter()
    sha256_file(path)
    return os.getpid(), start, time.perf_counter(), IMPORTED_AT


def burn_stamped(n: int) -> tuple[int, float, float, float]:
    """``burn`` that says where and when it ran, as ``sha256_stamped``."""
    start = time.perf_counter()
    burn(n)
    return os.getpid(), start, time.perf_counter(), IMPORTED_AT


def die_on_culprit(x: int) -> int:
    """Resilience: the worker process running item ``CULPRIT`` dies on the spot."""
    time.sleep(RESILIENCE_ITEM_S)
    if x == CULPRIT:
        os._exit(1)
    return x


def hang_on_culprit(x: int) -> int:
    """Resilience: item ``CULPRIT`` never returns (only killing its process stops it)."""
    if x == CULPRIT:
        while True:
            time.sleep(0.05)
    time.sleep(RESILIENCE_ITEM_S)
    return x
