"""Poolside's headless engine: run one task over many items, stream every outcome.

    from core import run
    job = run(task, items, backend="processes", workers=4, timeout=30)
    for outcome in job:            # streams as items finish
        print(outcome.item, outcome.status, outcome.value, outcome.error)
    print(job.summary.line())

The names below are imported lazily (PEP 562) so that a worker process, which
only needs ``core.backends._worker``, starts without importing the engine,
psutil or anything else it never uses.  Nothing in ``core`` imports Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core._lazy import lazy_exports

_EXPORTS = {
    "run": "core.engine",
    "Job": "core.engine",
    "Status": "core.records",
    "Outcome": "core.records",
    "ErrorInfo": "core.records",
    "Summary": "core.records",
    "system_info": "core.system",
    "default_workers": "core.system",
    "backend_names": "core.backends",
    "backend_info": "core.backends",
    "stop_idle_workers": "core.backends.processes",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from core.backends import backend_info, backend_names
    from core.backends.processes import stop_idle_workers
    from core.engine import Job, run
    from core.records import ErrorInfo, Outcome, Status, Summary
    from core.system import default_workers, system_info


__getattr__ = lazy_exports(__name__, _EXPORTS)
