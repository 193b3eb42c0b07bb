"""Task functions for the engine tests.

They live in an importable module (not in the test files' closures) because
process workers import them by name.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from pathlib import Path


def square(x: int) -> int:
    return x * x


def fail_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError(f"item {x} is unlucky")
    return x * x


def exit_on(x: int, culprit: int = 50) -> int:
    if x == culprit:
        os._exit(3)
    return x


def exit_on_50(x: int) -> int:
    return exit_on(x, 50)


def exit_on_20(x: int) -> int:
    return exit_on(x, 20)


def segfault_on_3(x: int) -> int:
    if x == 3:
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    return x


def hang_on_5(x: int) -> int:
    if x == 5:
        while True:  # a busy hang: only killing the process stops it
            time.sleep(0.01)  # ok: the hung item itself, not a test waiting
    return x


def pid_of_worker(x: int) -> int:
    return os.getpid()


def module_loaded(name: str) -> bool:
    """Whether the worker process running this has imported ``name``."""
    return name in sys.modules


def unpicklable_result(x: int) -> object:
    if x == 2:
        return threading.Lock()
    return x


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)  # ok: the item's own simulated I/O
    return seconds


def wait_for_file(path: str) -> bool:
    """Wait (bounded) until ``path`` exists; True if it appeared."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Path(path).exists():
            return True
        time.sleep(0.005)  # ok: an item that waits for the test to release it
    return False


def behave(spec: tuple[str, int]) -> int:
    """Do what the spec says: ("ok", v) -> v; ("raise", v); ("exit", v); ("segv", v)."""
    kind, value = spec
    if kind == "raise":
        raise RuntimeError(f"asked to raise {value}")
    if kind == "exit":
        os._exit(value % 100 + 1)
    if kind == "segv":
        ctypes.string_at(0)
    return value


class Unpicklable:
    """An item that cannot be sent to a worker process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return "Unpicklable()"


def identity(x: object) -> object:
    return x


class UnprintableError(Exception):
    """An exception whose ``str()`` raises (a buggy library's error class)."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


class UnshowableError(UnprintableError):
    """An exception whose ``str()`` and ``repr()`` both raise."""

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ is broken too")


def raise_unprintable_on_3(x: int) -> int:
    if x == 3:
        raise UnprintableError("hidden")
    if x == 5:
        raise UnshowableError("hidden")
    return x


def spawn_and_hang(pid_file: str, new_session: bool = False) -> None:
    """Start a child process (as a task running a tool would), note its pid, then hang."""
    import subprocess

    child = subprocess.Popen(["sleep", "60"], start_new_session=new_session)
    partial = Path(pid_file + ".partial")
    partial.write_text(str(child.pid))
    partial.replace(pid_file)  # whole or not at all for the test that reads it
    while True:
        time.sleep(0.01)  # ok: the hung item itself, not a test waiting


def spawn_daemon_and_hang(pid_file: str) -> None:
    """As spawn_and_hang, but the child leaves the worker's process group (a session of its own)."""
    spawn_and_hang(pid_file, new_session=True)


def out_of_memory(x: int) -> int:
    """Ask for far more memory than there is (or than the process may have): a bare MemoryError."""
    if x == 1:
        return len(bytearray(1 << 40))  # 1 TiB
    return x


async def async_sleep_for(seconds: float) -> float:
    """An ``async def`` task: it waits without holding a thread."""
    import asyncio

    await asyncio.sleep(seconds)  # ok: the item's own simulated I/O
    return seconds


async def async_fail_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError(f"item {x} is unlucky")
    return x * x


def wait_or_pass(x: object) -> object:
    """A path waits (bounded) until that file exists; anything else returns at once."""
    if isinstance(x, str):
        wait_for_file(x)
    return x


def spin(n: int) -> int:
    """Pure-Python CPU work: it holds the GIL the whole time."""
    total = 0
    for i in range(n):
        total += i
    return total


class SpinTogether:
    """``spin(n)``, but each thread's first item waits until ``parties`` threads have one.

    Threads start one after another, and a thread that already spins holds the
    GIL against those still starting; the barrier makes every worker busy at
    once, which is the situation the GIL signal is about.
    """

    def __init__(self, parties: int, n: int) -> None:
        self.barrier = threading.Barrier(parties)
        self.n = n
        self.local = threading.local()

    def __call__(self, item: object) -> int:
        if not getattr(self.local, "started", False):
            self.local.started = True
            self.barrier.wait(timeout=60)
        return spin(self.n)


class UnprintablyUnpicklable:
    """An item whose pickling raises an exception that cannot even be printed."""

    def __reduce__(self):
        raise UnprintableError("hidden")

    def __repr__(self) -> str:
        return "UnprintablyUnpicklable()"


def nap_or_fail_on_seven(item: tuple[int, float]) -> float:
    """``(index, seconds)``: an item whose own work lasts that long (0: returns at once); item 7 raises.

    The sleep is the item's work, the slow item among fast ones the test needs,
    not a test waiting for something.
    """
    index, seconds = item
    if index == 7:
        raise ValueError("item 7 is unlucky")
    if seconds:
        time.sleep(seconds)
    return seconds


def start_endless_thread(item: object) -> object:
    """Start a thread that is not a daemon and never ends (Python would wait for it at exit).

    ``daemon=False`` by hand: a thread started from a worker thread (a daemon) would be one.
    """
    if not any(t.name == "endless" for t in threading.enumerate()):
        threading.Thread(target=threading.Event().wait, name="endless", daemon=False).start()
    return item


def fork_and_return(item: object) -> object:
    """Fork once (on the item named ``fork``), and let the child return as the parent does.

    Every item run appends a line to ``<item>.ran`` next to it: an item run
    twice (by the child too) shows as two lines.
    """
    path = Path(str(item))
    with open(path.with_name(path.name + ".ran"), "a") as f:
        f.write(f"{os.getpid()}\n")
    if path.name.startswith("fork"):
        os.fork()
    return path.name


def recursion_limit_just_above(item: object) -> object:
    """Set the recursion limit a few frames above this call's own depth, on the item named ``low…``."""
    import sys

    if Path(str(item)).name.startswith("low"):
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(depth + 8)
    return item


def hang_when_named_hang(item: object) -> object:
    """Never returns for an item named ``hang…``; the others return their name."""
    path = Path(str(item))
    if path.name.startswith("hang"):
        threading.Event().wait()
    return path.name


def fork_and_linger(item: object) -> object:
    """Fork once (on the item named ``fork``); the child outlives its item by far, holding stdout."""
    path = Path(str(item))
    if path.name.startswith("fork") and os.fork() == 0:
        time.sleep(600)
        os._exit(0)
    return path.name


def close_stdout_and_stderr(item: object) -> object:
    """Close fds 1 and 2 of the process the task runs in (the CLI's own, on sequential and threads)."""
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass  # closed by an item before
    return item


def tight_recursion_limit(item: object) -> object:
    """Leave the process with a recursion limit that little code can live with."""
    import sys

    sys.setrecursionlimit(30)
    return item


def hog_on_3(x: int) -> int:
    """Item 3 holds 160 MB (every page touched) until its worker is killed; the rest return at once."""
    if x != 3:
        return x
    block = bytearray(160 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    for _ in range(200):  # 20 s at most: the memory cap kills it within ~50 ms
        time.sleep(0.1)
    return len(block)


def gated(item: object) -> object:
    """A ``str`` item is a gate (``tests.engine.test_run_controls.Gate``): the item says it has
    started through the FIFO ``item + ".started"``, then waits (bounded) until the test opens
    ``item + ".go"``; anything else returns at once.  FIFOs reach a worker in any process with
    no sleep on either side."""
    if not isinstance(item, str):
        return item
    import select

    go = os.open(item + ".go", os.O_RDONLY | os.O_NONBLOCK)  # before "started": the test may release at once
    try:
        started = os.open(item + ".started", os.O_WRONLY)  # the test listens from before the run
        os.write(started, b"1")
        os.close(started)
        select.select([go], [], [], 60)  # readable once the test has opened and closed ".go"
    finally:
        os.close(go)
    return item
