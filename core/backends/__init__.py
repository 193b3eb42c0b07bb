"""The registry of backends: a name for ``run(backend=...)`` → the class that runs it.

Backends are imported on first use, so a backend whose optional package is not
installed (Dask, joblib) costs nothing until someone picks it, and reports why
it is unavailable instead of breaking the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from .._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from .base import Backend, BackendInfo, Kind

# The backend base (and what it imports) loads with the first backend, not with the
# package: a worker process imports ``poolside.backends._process_main``, and with it
# this package, in its server before its first item (~3 ms of it was base's).
__getattr__ = lazy_exports(__name__, {"BackendInfo": "poolside.backends.base", "Kind": "poolside.backends.base"})

class Entry(NamedTuple):
    """A registered backend: where its class lives, and the two traits that place
    it without importing it (the window colours a Dask bar without importing Dask).
    ``tests/backends/test_registry.py`` checks them against the classes."""

    target: str  # "module:Class"
    kind: Kind
    library: str


# Adding a backend is one module plus one line here.
_REGISTRY: dict[str, Entry] = {
    "sequential": Entry("poolside.backends.threads:SequentialBackend", "threads", "none"),
    "threads": Entry("poolside.backends.threads:ThreadBackend", "threads", "poolside"),
    "processes": Entry("poolside.backends.processes:ProcessBackend", "processes", "poolside"),
    "process-executor": Entry("poolside.backends.classic_futures:ProcessExecutorBackend", "processes",
                              "concurrent.futures"),
    "thread-executor": Entry("poolside.backends.classic_futures:ThreadExecutorBackend", "threads",
                             "concurrent.futures"),
    "mp-pool": Entry("poolside.backends.classic_mp:MultiprocessingPoolBackend", "processes", "multiprocessing.pool"),
    "mp-thread-pool": Entry("poolside.backends.classic_mp:MultiprocessingThreadPoolBackend", "threads",
                            "multiprocessing.pool"),
    "thread-per-item": Entry("poolside.backends.per_item:ThreadPerItemBackend", "threads", "threading"),
    "process-per-item": Entry("poolside.backends.per_item:ProcessPerItemBackend", "processes", "multiprocessing"),
    "joblib": Entry("poolside.backends.joblib_loky:JoblibBackend", "processes", "joblib"),
    "asyncio": Entry("poolside.backends.aio:AsyncioBackend", "async", "asyncio"),
    "dask": Entry("poolside.backends.dask:DaskBackend", "cluster", "dask"),
}


def entry(name: str) -> Entry | None:
    """The registry's entry for ``name``, or ``None`` for a name it does not know."""
    return _REGISTRY.get(name)


def backend_names() -> list[str]:
    """Every registered backend name, the built-in three first."""
    return list(_REGISTRY)


def get_backend(name: str) -> type[Backend]:
    """The class behind ``name``; a clear ``ValueError`` for an unknown one."""
    try:
        target = _REGISTRY[name].target
    except KeyError:
        raise ValueError(
            f"unknown backend {name!r}; choose one of: {', '.join(_REGISTRY)}"
        ) from None
    module, _, cls = target.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise ValueError(f"backend {name!r} is not available: {exc}") from exc


#: The kinds whose workers are threads of the process that runs the backend: the items share
#: its GIL and its memory, and a running item cannot be stopped short of ending that process.
_IN_CALLER_KINDS = frozenset({"threads", "async"})


def runs_in_caller(backend: str | Backend | type[Backend]) -> bool:
    """Whether ``backend`` (a registered name, a class or an instance) runs items on threads of
    the process that runs it, as its kind says.  A name is read from its registry entry, so
    nothing is imported; an unknown name raises :func:`get_backend`'s ``ValueError``."""
    if not isinstance(backend, str):
        return backend.kind in _IN_CALLER_KINDS
    found = entry(backend)
    if found is None:
        get_backend(backend)  # raises, naming the backends there are
    return found is not None and found.kind in _IN_CALLER_KINDS


def backend_info() -> list[BackendInfo]:
    """What the window shows: each backend, when it wins, and whether it can be used."""
    from .base import BackendInfo

    infos = []
    for name in _REGISTRY:
        try:
            cls = get_backend(name)
        except ValueError as exc:
            infos.append(BackendInfo(name, name, "", False, False, str(exc)))
            continue
        infos.append(BackendInfo(cls.name, cls.label, cls.description, cls.kills_hung_items, True,
                                 kind=cls.kind, wins=cls.wins, methods=cls.methods,
                                 caps_worker_memory=cls.caps_worker_memory))
    return infos
