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


@plugin
def foreign(item) -> object:
    """Return an object of a class that exists only in the process that ran the task."""
    import sys
    import types

    module = sys.modules.get("made_in_the_host")
    if module is None:
        module = sys.modules["made_in_the_host"] = types.ModuleType("made_in_the_host")
        module.Thing = type("Thing", (), {"__module__": "made_in_the_host"})
    return module.Thing() if item == "odd" else str(item)


@plugin
def gate_on(item, marker: str = "gate") -> str:
    """An item whose name holds the marker is a gate (``tests.gates.Gate``): it says it started through
    the FIFO ``item + ".started"`` and waits (bounded) until the test opens ``item + ".go"``; the
    others echo at once.  So the window's tests know what runs when they pause or stop, with no sleep."""
    import os
    import select

    item = str(item)
    if marker in os.path.basename(item):
        go = os.open(item + ".go", os.O_RDONLY | os.O_NONBLOCK)
        try:
            started = os.open(item + ".started", os.O_WRONLY)
            os.write(started, b"1")
            os.close(started)
            select.select([go], [], [], 60)
        finally:
            os.close(go)
    return item
