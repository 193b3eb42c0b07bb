"""The engine: one task over many items, every item ending in exactly one outcome.

    items ──► reader ──► intake ──chunks──► backend ──Done/events──► ledger ──► Job ──► consumer
              (reader)   (intake,           (poolside.backends)      (ledger,    (job:
                          chunking)                                   batches)    run, Job)

The sampler (``sampler``) reads the run's processes' memory on the dispatcher's
ticks, and ``insights`` turns the run's numbers into ``Insights`` (numbers only:
``poolside.words`` says them).  ``run`` and ``Job`` are imported lazily so that
importing one of the engine's parts does not import the whole engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {"run": "poolside.engine.job", "Job": "poolside.engine.job"}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .job import Job, run

__getattr__ = lazy_exports(__name__, _EXPORTS)
