"""How worker processes start: the start method, the zygote, one worker launched, the pipe ends kept.

Data flow::

    start_method() / default_method()  ── which way: zygote, forkserver, spawn
    worker_context(method)             ── its multiprocessing context (forks the zygote if need be)
    _launch_worker(ctx, method)        ── one worker process, waiting for a run's task:
                                          a _Proc (pipes, shared slot, result reader)
    prestart(workers)                  ── the zygote now, and workers parked for the next run
    release_workers()                  ── a one-shot caller lets them all end at once

``poolside.backends.processes`` runs them; this module only starts them, and
is where a program that starts threads later (the window, the run host, the
CLI) comes first.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.heap
import os
import sys
import weakref
from collections import deque
from typing import Any

from . import _forkserver, _zygote
from ._parking import IDLE_EXIT_S, _park, parked_count, release_idle_workers
from ._pipes import FrameReader
from ._process_main import process_main
from ._worker import FLUSH_S, IDLE, SLOT_STATE, SLOT_WIDTH


def start_method() -> str:
    """``forkserver`` where it exists (Linux, BSD, macOS), ``spawn`` elsewhere.

    macOS has forkserver but its system libraries are not fork-safe even then,
    so it gets ``spawn`` too, as CPython itself chose in 3.8.
    """
    methods = mp.get_all_start_methods()
    if "forkserver" in methods and sys.platform.startswith("linux"):
        return "forkserver"
    return "spawn"


def default_method() -> str:
    """How this process starts its workers now: ``zygote`` if it can, else :func:`start_method`.

    The zygote (``poolside.backends._zygote``) is forked from this process while
    it runs one thread, and forks every worker after that (start() forks the
    first ones itself while it can).  It hides the start-up: a cold sha256 run
    of 1,000 files (one CLI call's work, ~50 ms of it) measured 0.29x the plain
    loop's speed with the forkserver (a fresh interpreter first) and 0.62-0.86x
    with the zygote on a machine loaded 4-11 deep, where Pool.map (fork) made
    0.56-0.80x in the same runs (``python -m benchmarks.fastpath``).
    """
    if _zygote.available():
        return "zygote"
    return start_method()


def worker_context(method: str | None = None, task: Any = None) -> Any:
    """The multiprocessing context worker processes start from (``method``: default_method()).

    For ``zygote`` the zygote is forked now if it is not running, so call this
    while the caller still runs one thread (a backend's start()).  ``task``:
    the first run's task, whose module a forkserver started now preloads.
    """
    method = method or default_method()
    if method == "zygote":
        _zygote.ensure_running()
        return _zygote.ZygoteContext()
    if method == "forkserver":
        # Poolside's own forkserver (poolside.backends._forkserver): the standard
        # library's loop without its resource tracker.  The preload only takes
        # effect when the server starts (once per process).
        light = _forkserver.LightContext()
        light.set_forkserver_preload(forkserver_preload(task))
        return light
    return mp.get_context(method)


def forkserver_preload(task: Any = None) -> list[str]:
    """What a forkserver imports once, so that each worker it forks has it already.

    The worker loop, the caller's main module and the task's module: a worker
    then imports nothing before its first item.  With the loop alone, every
    worker re-ran the main module (multiprocessing's ``prepare``) and imported
    the task's module itself; on 1,000 x 64 KiB sha256 in a caller that runs a
    thread, that made a cold run 0.6-0.9x of ``Pool(forkserver)``, which
    preloads ``__main__`` (its default).  Only modules already imported here are
    named (the task's is, it was unpickled from it), and ``__main__`` only when
    it is a file: the server imports them by name, and runs the main module as
    a worker's ``spawn.prepare`` would (``poolside.backends._forkserver.main``).
    """
    modules = ["poolside.backends._process_main"]
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None):
        modules.insert(0, "__main__")
    module = getattr(task, "__module__", None)
    if isinstance(module, str) and module != "__main__" and module in sys.modules and module not in modules:
        modules.append(module)
    return modules


def prestart(workers: int = 0) -> bool:
    """Fork the zygote now, while this process runs one thread; whether it is running.

    A program that starts threads later (a window, a server) calls this first
    thing, so that its runs get the zygote's fast start; without it they use
    the forkserver, which is safe at any time.

    With ``workers``, that many worker processes are started now too and
    parked: the next run adopts them.  Their start-up (in the new processes:
    setting up, faulting in the pages they touch) then overlaps whatever the
    caller does before its run.  The CLI does this as soon as its plugin is
    loaded, and opens the history and starts reading the folder meanwhile: a
    worker started inside ``run()`` costs a one-shot call over 1,000 small
    files ~5 ms before its first item.
    """
    if not _zygote.supported():
        return False
    try:
        _zygote.ensure_running()
    except _zygote.ZygoteUnavailable:
        return False
    missing = workers - parked_count("zygote")
    if missing > 0:
        ctx = mp.get_context("fork") if _zygote.threads_running() == 1 else _zygote.ZygoteContext()
        for _ in range(missing):
            _park(_launch_worker(ctx, "zygote"))
    return True


def start_forkserver() -> None:
    """Start the forkserver now, for a program that already runs threads (no zygote).

    Its start (a fresh interpreter importing the worker's modules) then
    overlaps what the program does before its first run on processes.
    """
    _forkserver.ensure_running(forkserver_preload())


def release_workers() -> None:
    """This process will start no more runs on processes: let its parked workers and its zygote end now.

    Returns at once: they end while the caller finishes (the CLI writes its
    summary and exits), and are reaped at exit.  A later run still works: it
    starts new workers (through the forkserver once this process runs threads).
    """
    release_idle_workers()
    _zygote.release()


def helper_pids() -> list[int]:
    """Long-lived helper processes of this one that are not workers: the zygote, if running."""
    pid = _zygote.pid()
    return [pid] if pid is not None else []


def _launch_worker(ctx: Any, method: str, flush_s: float = FLUSH_S) -> _Proc:
    """Start one worker process from ``ctx``; it waits for a run's task."""
    # Shared memory for the slot: the raw buffer multiprocessing shares
    # between processes (a RawArray without ctypes, which a worker would
    # otherwise import just to read it: ~1.5 MB each).
    slots = multiprocessing.heap.BufferWrapper(SLOT_WIDTH * 8)
    task_r, task_w = ctx.Pipe(duplex=False)
    result_r, result_w = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=process_main,
        args=(task_r, result_w, slots, flush_s, IDLE_EXIT_S),
        name="poolside-worker",
        daemon=True,
    )
    _parent_ends.add(task_w)
    _parent_ends.add(result_r)
    try:
        process.start()
    except BaseException:
        for conn in (task_w, result_r):
            _parent_ends.discard(conn)
            conn.close()
        raise
    finally:
        task_r.close()
        result_w.close()
    return _Proc(method, process, task_w, result_r, slots)


class _Proc:
    """One worker process, its pipes, its slot, and the chunks it holds, oldest first."""

    def __init__(self, method: str, process: Any, tasks: Any, results: Any, slots: Any) -> None:
        self.method = method
        self.process = process
        self.tasks = tasks
        self.results: Any = results  # None once it reached EOF
        self.slots = slots  # the shared buffer (kept alive while the worker is)
        self.slot = slots.create_memoryview().cast("d")
        self.frames = FrameReader(results)  # the result pipe is read through it only
        self.index = -1  # its number in the current run
        self.assigned: deque[int] = deque()
        self.retracting: set[int] = set()
        self.ready = False  # it has loaded this run's task

    def adopt(self, index: int) -> None:
        self.index = index
        self.assigned.clear()
        self.retracting.clear()
        self.ready = False
        self.slot[SLOT_STATE] = IDLE

    def close(self) -> None:
        self.process.close()
        for conn in (self.tasks, self.results):
            if conn is not None:
                _parent_ends.discard(conn)
                conn.close()


# This process's ends of every worker's pipes.  A process forked from this one
# (a worker forked directly, the zygote, a user's own fork) closes its copies
# at once: a copy of a task pipe's write end would keep that worker from ever
# seeing the end of its pipe, which is how it is told to stop and how it
# learns that this process died.
_parent_ends: weakref.WeakSet[Any] = weakref.WeakSet()


def _close_parent_ends() -> None:
    for conn in list(_parent_ends):
        try:
            conn.close()
        except OSError:
            pass
    _parent_ends.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_parent_ends)
