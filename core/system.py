"""What this machine offers: core counts, the CPU model, default worker counts.

Everything here is cheap and cached; the window shows it and the engine uses
:func:`default_workers` when a caller does not choose.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

# psutil and platform are imported by system_info() only: a run needs usable_cores()
# alone, and `from poolside import run` stays light (psutil alone costs ~10 ms).


class SystemInfo(NamedTuple):
    logical_cores: int
    physical_cores: int
    #: Cores this process may run on (its affinity mask, or a container's limit).
    usable_cores: int
    cpu_model: str
    memory_bytes: int
    platform: str


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"


@functools.lru_cache(maxsize=1)
def usable_cores() -> int:
    """Cores this process may run on: what a run's default worker count and its insights need.

    Apart from :func:`system_info` because that one is dear the first time (~2 ms: the
    physical core count globs sysfs, the model reads /proc/cpuinfo), and a cold
    ``run()`` needs only this.
    """
    try:
        return len(os.sched_getaffinity(0)) or os.cpu_count() or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=1)
def system_info() -> SystemInfo:
    import platform

    import psutil

    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    return SystemInfo(
        logical_cores=logical,
        physical_cores=physical,
        usable_cores=min(usable_cores(), logical),
        cpu_model=_cpu_model(),
        memory_bytes=psutil.virtual_memory().total,
        platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
    )


# Threads that mostly wait (network, disk, sleep) gain from far more workers than
# cores; 32 is ThreadPoolExecutor's own ceiling and keeps the per-thread stack
# memory and context switching modest.  CPU work gains nothing past the cores
# it may use, and pure-Python CPU work on threads gains nothing at all (the GIL).
_IO_THREADS_CAP = 32
# Waits in flight on one event loop cost a few KB each and no thread, so an
# async backend keeps many more of them going than threads would.
_IO_ASYNC_IN_FLIGHT = 128


def default_workers(backend: str, bound: str = "mixed") -> int:
    """A sensible worker count for ``backend`` and a task that is ``bound``.

    It follows from the backend's *kind* (threads, processes, async, cluster),
    not its name.  ``bound`` is ``"cpu"``, ``"io"`` or ``"mixed"`` (what a
    plugin declares).  An unknown backend is a ``ValueError``.
    """
    from .backends import get_backend

    cls = get_backend(backend)
    cores = usable_cores()
    if cls.max_workers is not None:
        return cls.max_workers
    if cls.kind == "async":
        if bound == "io":
            return _IO_ASYNC_IN_FLIGHT
        return cores if bound == "cpu" else min(_IO_THREADS_CAP, cores + 4)
    if cls.kind == "threads":
        if bound == "io":
            return min(_IO_THREADS_CAP, cores * 8)
        if bound == "cpu":
            return cores
        return min(_IO_THREADS_CAP, cores + 4)
    # Processes and clusters: one per usable core.  For I/O-bound tasks a few
    # more hide the waits without the GIL getting in the way.
    if bound == "io":
        return cores * 2
    return cores
