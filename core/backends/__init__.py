"""The registry of backends: a name for ``run(backend=...)`` → the class that runs it.

Backends are imported on first use, so a backend whose optional package is not
installed (Dask, joblib) costs nothing until someone picks it, and reports why
it is unavailable instead of breaking the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import BackendInfo

if TYPE_CHECKING:  # pragma: no cover
    from .base import Backend

# name -> "module:Class".  Adding a backend is one module plus one line here.
_REGISTRY: dict[str, str] = {
    "sequential": "poolside.backends.threads:SequentialBackend",
    "threads": "poolside.backends.threads:ThreadBackend",
    "processes": "poolside.backends.processes:ProcessBackend",
    "process-executor": "poolside.backends.classic:ProcessExecutorBackend",
    "thread-executor": "poolside.backends.classic:ThreadExecutorBackend",
    "mp-pool": "poolside.backends.classic:MultiprocessingPoolBackend",
    "mp-thread-pool": "poolside.backends.classic:MultiprocessingThreadPoolBackend",
    "thread-per-item": "poolside.backends.per_item:ThreadPerItemBackend",
    "process-per-item": "poolside.backends.per_item:ProcessPerItemBackend",
    "joblib": "poolside.backends.joblib_loky:JoblibBackend",
    "asyncio": "poolside.backends.aio:AsyncioBackend",
    "dask": "poolside.backends.dask:DaskBackend",
}


def backend_names() -> list[str]:
    """Every registered backend name, the built-in three first."""
    return list(_REGISTRY)


def get_backend(name: str) -> type[Backend]:
    """The class behind ``name``; a clear ``ValueError`` for an unknown one."""
    try:
        target = _REGISTRY[name]
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
    the process that runs it, as its ``kind`` says.  A name is looked up as :func:`get_backend`
    does, so an unknown or unavailable one raises its ``ValueError``."""
    cls = get_backend(backend) if isinstance(backend, str) else backend
    return cls.kind in _IN_CALLER_KINDS


def backend_info() -> list[BackendInfo]:
    """What the window shows: each backend, when it wins, and whether it can be used."""
    infos = []
    for name in _REGISTRY:
        try:
            cls = get_backend(name)
        except ValueError as exc:
            infos.append(BackendInfo(name, name, "", False, False, str(exc)))
            continue
        infos.append(BackendInfo(cls.name, cls.label, cls.description, cls.kills_hung_items, True,
                                 kind=cls.kind, wins=cls.wins, methods=cls.methods))
    return infos
