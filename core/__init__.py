"""Poolside's headless engine: run one task over many items, stream every outcome.

    from poolside import run
    job = run(task, items, backend="processes", workers=4, timeout=30)
    for outcome in job:            # streams as items finish
        print(outcome.item, outcome.status, outcome.value, outcome.error)
    print(job.summary.line())

The names below are imported lazily (PEP 562) so that a worker process, which
only needs ``poolside.backends._worker``, starts without importing the engine,
psutil or anything else it never uses.  Nothing in ``core`` imports Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

_EXPORTS = {
    "run": "poolside.engine.job",
    "Job": "poolside.engine.job",
    "Status": "poolside.records",
    "Outcome": "poolside.records",
    "ErrorInfo": "poolside.records",
    "Summary": "poolside.records",
    "system_info": "poolside.system",
    "default_workers": "poolside.system",
    "backend_names": "poolside.backends",
    "backend_info": "poolside.backends",
    "stop_idle_workers": "poolside.backends.workers",
    "compare": "poolside.study",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .backends import backend_info, backend_names
    from .backends.workers import stop_idle_workers
    from .engine.job import Job, run
    from .records import ErrorInfo, Outcome, Status, Summary
    from .study import compare
    from .system import default_workers, system_info


__getattr__ = lazy_exports(__name__, _EXPORTS)
