"""The caller's arguments to ``run()``, checked before any worker starts.

    run(task, items, backend, workers, timeout, bound, backend_options, method)
      └─ checked() ─► (backend class, its options, workers, timeout) or a clear TypeError/ValueError

``backend_options["max_memory_per_worker"]`` (bytes, or a size such as "1GB") is
taken by the backends that can kill a worker process (``caps_worker_memory``);
any other backend refuses it here.  ``library_threads`` (a cap on the task's libraries'
own thread pools, see ``libthreads``) is taken by the backends that run one item at a
time per process.

Every bad argument is refused here, with what was given and what is allowed,
so that a run never starts workers it will have to stop again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..backends import get_backend
from ..backends.base import Backend
from ..system import default_workers
from ..words.configs import library_threads_unsupported
from ..words.memory import cap_unsupported
from ..words.units import parse_size
from .libthreads import caps_library_threads


def checked(task: Callable[[Any], Any], items: Iterable[Any], backend: str, workers: int | None,
            timeout: float | None, bound: str, backend_options: Mapping[str, Any] | None,
            method: str | None, library_threads: int | None = None,
            ) -> tuple[type[Backend], dict[str, Any], int, float | None]:
    """The backend's class, its options, the worker count and the timeout, each checked."""
    if not callable(task):
        raise TypeError(f"task must be callable, not {type(task).__name__}")
    try:
        iter(items)
    except TypeError:
        raise TypeError(f"items must be iterable, not {type(items).__name__}") from None
    backend_cls = get_backend(backend)
    options = _backend_options(backend_cls, backend_options, method)
    if workers is None:
        workers = default_workers(backend, bound)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, not {workers!r}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0, or None; not {timeout!r}")
        timeout = float(timeout)
    if library_threads is not None:
        _check_library_threads(backend_cls, library_threads)
    return backend_cls, options, workers, timeout


def _check_library_threads(backend_cls: type[Backend], limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"library_threads must be a whole number >= 1, or None; not {limit!r}")
    if not caps_library_threads(backend_cls.name, backend_cls.kind):
        raise ValueError(library_threads_unsupported(backend_cls.name, backend_cls.kind))


def _backend_options(backend_cls: type[Backend], options: Mapping[str, Any] | None,
                     method: str | None) -> dict[str, Any]:
    merged = dict(options or {})
    if method is not None:
        if not backend_cls.methods:
            raise ValueError(f"the {backend_cls.name} backend has no method option; the classic "
                             "pools have one (mp-pool, mp-thread-pool, process-executor, "
                             "thread-executor), and joblib")
        if "method" in merged and merged["method"] != method:
            raise ValueError(f"method={method!r} and backend_options['method']="
                             f"{merged['method']!r} disagree")
        merged["method"] = method
    if merged.get("max_memory_per_worker") is not None:
        if not backend_cls.caps_worker_memory:
            raise ValueError(cap_unsupported(backend_cls.name, backend_cls.kind))
        merged["max_memory_per_worker"] = parse_size(merged["max_memory_per_worker"])  # "1GB" or bytes
    else:
        merged.pop("max_memory_per_worker", None)
    # (The processes backend's own "method" option is its start method.)
    if backend_cls.methods and "method" in merged and merged["method"] not in backend_cls.methods:
        raise ValueError(f"the {backend_cls.name} backend has no method {merged['method']!r}; "
                         f"choose one of: {', '.join(backend_cls.methods)}")
    return merged
