"""Pure-Python and hashlib work for the observed test programs.

Each call does a fixed amount of CPU time, not a fixed count of steps: a
program then lasts as long on a quiet machine as on a loaded one, and is
long enough to judge (``poolside.observe.verdict.MIN_WALL_S``) on both.
"""

import hashlib
import time


def spin(ms: float = 40) -> int:
    """Pure Python for ``ms`` of this thread's CPU time: holds the GIL."""
    end = time.thread_time() + ms / 1000
    total = 0
    while time.thread_time() < end:
        for i in range(2_000):
            total += i * i % 7
    return total


DATA = b"x" * (1 << 20)


def digest(ms: float = 40) -> str:
    """hashlib on 1 MiB buffers for ``ms`` of this thread's CPU time: releases the GIL while it hashes."""
    end = time.thread_time() + ms / 1000
    h = hashlib.sha256()
    while time.thread_time() < end:
        h.update(DATA)
    return h.hexdigest()


def tiny(x: int) -> int:
    return x + 1
