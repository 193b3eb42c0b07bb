"""Memory-aware recommendations: what each configuration needs, and which fit the memory there is.

    ConfigResult (parent_mb, worker_mb: the largest USS measured, per process) ──need_mb()──►
        in-process backends:  the parent's USS (its threads' memory is in it)
        process backends:     the parent's USS (the study's smallest) + workers × one worker's USS
        USS never read:       the run's peak RSS summed over its processes (an overestimate)
    the user's cap (--max-memory), else the memory available now (psutil) ──limit()──► Limit
    configurations ──within(limit)──► (those that fit, those predicted to exceed it)
        └─ recommend() picks among those that fit; the why names the faster ones left out
    the winner ──fit(limit)──► its need, and how many of its workers the limit holds
    a configuration about to run ──too_big(measured, limit)──► skipped, and why, before it starts

The need is a prediction: the largest USS of one worker times the workers
(every worker assumed to grow as the largest did), and the USS is read at the
run's memory peaks and its end (``poolside.proctree``), not continuously.  USS
leaves out what forked workers share with the parent (imported modules), which
costs the machine once, whatever the worker count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .plan import Config
from .record import ConfigResult

MB = 1e6  # the record keeps decimal megabytes


@dataclass(frozen=True)
class Limit:
    """How much memory a recommendation may need: ``bytes``, and whether the user's ``cap`` set it."""

    bytes: int
    cap: bool  #: the user's cap (--max-memory); False: the memory available when the study ended

    def to_dict(self) -> dict[str, Any]:
        return {"limit_mb": round(self.bytes / MB, 1), "limit_bytes": self.bytes, "cap": self.cap}


def limit(cap: int | None) -> Limit:
    """The user's cap, or the memory the machine has available now (``psutil.virtual_memory().available``)."""
    if cap is not None:
        return Limit(int(cap), True)
    import psutil

    return Limit(int(psutil.virtual_memory().available), False)


def base_parent(configs: Sequence[ConfigResult]) -> float | None:
    """The smallest parent USS of the study (MB): what the parent holds with no item's memory in it.

    A process backend's own parent figure also holds what earlier configurations
    of the same study left in the parent's heap (the allocator keeps freed
    memory: a parent read 150 MB on processes after threads runs whose items
    held 30 MB each, against 44 MB when processes ran first); its workers do
    the items, so the parent they need is this smallest one.  It can still
    hold an item's memory (the sample is read, and the baseline run, in the
    parent), so the need errs high: the safe side for a limit.
    """
    parents = [c.parent_mb for c in configs if c.parent_mb is not None]
    return min(parents) if parents else None


def _parent(c: ConfigResult, base: float | None) -> float | None:
    from .measure import in_process

    if c.parent_mb is None or c.config.sequential or in_process(c.config.backend) or base is None:
        return c.parent_mb
    return min(c.parent_mb, base)


def need_mb(c: ConfigResult, workers: int | None = None, base: float | None = None) -> float | None:
    """The memory ``c`` is predicted to need (MB) with ``workers`` (default: its own); ``None``: not measured.

    ``base``: the study's :func:`base_parent`, the parent a process backend needs.
    """
    from .measure import in_process

    n = c.config.workers if workers is None else workers
    parent, worker = _parent(c, base), c.worker_mb
    if parent is None:
        return c.peak_mb
    if c.config.sequential or in_process(c.config.backend):
        return parent
    if worker is None:
        return c.peak_mb
    return parent + n * worker


def within(configs: Sequence[ConfigResult], lim: Limit) -> tuple[list[ConfigResult], list[ConfigResult]]:
    """(the configurations that fit ``lim``, those predicted to exceed it); unmeasured ones fit."""
    base = base_parent(configs)
    fits: list[ConfigResult] = []
    over: list[ConfigResult] = []
    for c in configs:
        need = need_mb(c, base=base)
        (over if need is not None and need * MB > lim.bytes else fits).append(c)
    return fits, over


def _numbers(c: ConfigResult, base: float | None) -> dict[str, Any]:
    return {"config": c.config.to_dict(), "need_mb": round(need_mb(c, base=base) or 0.0, 1),
            "parent_mb": _r(_parent(c, base)), "worker_mb": _r(c.worker_mb)}


def reasons(left_out: Sequence[ConfigResult], lim: Limit, base: float | None) -> dict[str, Any]:
    """The numbers the why cites: the limit, and each configuration left out with its need."""
    return {**lim.to_dict(), "left_out": [_numbers(c, base) for c in left_out]}


def fit(c: ConfigResult, lim: Limit, base: float | None) -> dict[str, Any] | None:
    """The winner's need and how many of its workers the limit holds (``max_workers``; None on threads)."""
    if need_mb(c, base=base) is None:
        return None
    out: dict[str, Any] = {**lim.to_dict(), **_numbers(c, base), "max_workers": None}
    parent = _parent(c, base)
    if parent is not None and c.worker_mb and out["need_mb"] != round(parent, 1):
        out["max_workers"] = max(0, int((lim.bytes / MB - parent) // c.worker_mb))
    return out


def too_big(config: Config, measured: Sequence[ConfigResult], lim: Limit) -> str | None:
    """Why ``config`` is not worth running: its workers predicted to need more than ``lim``; else ``None``.

    Predicted from a configuration of the same backend measured already (its
    largest worker's USS) and the study's smallest parent: a study never starts
    eight workers of 2 GB each on a machine with 8 GB to find out.  In-process
    backends are not predicted (their memory is the parent's, measured when run).
    """
    from ..words.study import memory_skip
    from .measure import in_process

    if config.sequential or in_process(config.backend):
        return None
    workers = [c.worker_mb for c in measured if c.config.backend == config.backend and c.worker_mb is not None]
    base = base_parent(measured)
    if not workers or base is None:
        return None
    need = base + config.workers * max(workers)
    if need * MB <= lim.bytes:
        return None
    return memory_skip(config, need, base, max(workers), lim.to_dict())


def flagged(configs: Sequence[ConfigResult], lim: Limit) -> list[tuple[ConfigResult, float]]:
    """Each measured configuration predicted to exceed ``lim``, with its need (MB): what a table flags."""
    base = base_parent(configs)
    return [(c, need_mb(c, base=base) or 0.0) for c in within(configs, lim)[1]]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)
