"""Tasks whose nature is known, for the study host's tests (loaded by path): CPU in Python, and waiting."""

import time

from poolside.plugins import plugin


@plugin(bound="cpu")
def burn(item, seconds: float = 0.004) -> int:
    """Pure-Python work for a while: holds the GIL."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


@plugin(bound="io")
def nap(item, seconds: float = 0.01) -> str:
    """Sleeps: the CPU idles, the GIL is free."""
    time.sleep(seconds)
    return str(item)
