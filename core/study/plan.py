"""What a study tries: configurations, an explicit grid, and auto mode's next steps.

    explicit:  grid(backends × workers × chunk sizes × methods) ──► [Config, ...]
    auto:      baseline (sequential) ──► first_round(): threads and processes at the core count
                    │                        (+ chunk sizes when items are tiny)
                    └── measured ──► next_round(): waiting-bound → double the leader's workers
                                      while the speed-up still grows by more than 10 %

Auto mode is a small state machine of pure functions: each takes what has been
measured so far (:class:`Probe`, one timed run per configuration) and returns
the configurations to try next, or nothing.  The runner owns the clock and the
budget; nothing here runs anything, so the decisions are testable on numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import JobSpec

#: Backends that take a ``method`` option (the classic pools' calls).
METHOD_BACKENDS = frozenset({"mp-pool", "mp-thread-pool", "process-executor", "thread-executor"})

# Baseline CPU time / wall time below which a task is *waiting* (I/O, sleeps,
# locks): more workers than cores pay.  Pure CPU work reads 0.9-1.0; a 50/50
# mix reads 0.5, where neither word fits and the measurements decide.
WAITING_CPU_RATIO = 0.5
# An item this short is *tiny*: a hand-off to a worker costs 20-200 us
# (pickling, a pipe round trip, waking a thread), comparable to the work.
TINY_ITEM_S = 200e-6
# Auto mode keeps doubling the workers of a waiting-bound task while each
# doubling still gains more than this (the 10 %).
DOUBLING_GAIN = 1.10
# More workers than this are never tried by doubling: 256 threads already hide
# a 100 ms wait behind 2.5 ms of work; past it, memory and switching cost more.
MAX_WORKERS = 256
# A waiting task that still spends this share of its time on the CPU gets its
# process workers doubled too: that CPU part may hold the GIL.
MIXED_CPU_RATIO = 0.2
# Chunk sizes auto mode tries for tiny items, besides the engine's "auto".
TINY_CHUNKS: tuple[int, ...] = (16, 256)


@dataclass(frozen=True, order=True)
class Config:
    """One way to run the job: where, how many workers, how many items per hand-off, which call."""

    backend: str
    workers: int
    chunk_size: int | str = "auto"
    method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "workers": self.workers,
                "chunk_size": self.chunk_size, "method": self.method}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        return cls(data["backend"], int(data["workers"]), data.get("chunk_size", "auto"), data.get("method"))

    @property
    def sequential(self) -> bool:
        return self.backend == "sequential"

    def sort_key(self) -> tuple:
        # "auto" and None sort with the numbers and names: a stable order for tables and tests.
        return (self.backend, self.workers, str(self.chunk_size), self.method or "")


BASELINE = Config("sequential", 1)


@dataclass(frozen=True)
class StudyPlan:
    """What a front end asks a study host for: the job, and auto mode or an explicit grid.

    ``backends``, ``workers``, ``chunk_sizes`` and ``methods`` are read in grid
    mode only.  ``to_dict`` is plain data (the spec as ``JobSpec.to_dict``).
    """

    spec: JobSpec
    mode: str = "auto"  #: "auto" or "grid"
    backends: tuple[str, ...] = ()
    workers: tuple[int, ...] = ()
    chunk_sizes: tuple[int | str, ...] = ("auto",)
    methods: tuple[str | None, ...] = (None,)
    sample: int | None = None
    repeats: int = 3
    budget_s: float = 60.0
    allow_side_effects: bool = False
    max_memory: int | None = None  #: bytes the recommendation may need (None: what is available)

    @property
    def grid(self) -> bool:
        return self.mode == "grid"

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "mode": self.mode, "backends": list(self.backends),
                "workers": list(self.workers), "chunk_sizes": list(self.chunk_sizes), "methods": list(self.methods),
                "sample": self.sample, "repeats": self.repeats, "budget_s": self.budget_s,
                "allow_side_effects": self.allow_side_effects, "max_memory": self.max_memory}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyPlan:
        from ..spec import JobSpec

        return cls(JobSpec.from_dict(data["spec"]), str(data.get("mode", "auto")),
                   tuple(data.get("backends") or ()), tuple(int(w) for w in data.get("workers") or ()),
                   tuple(data.get("chunk_sizes") or ("auto",)), tuple(data.get("methods") or (None,)),
                   data.get("sample"), int(data.get("repeats", 3)), float(data.get("budget_s", 60.0)),
                   bool(data.get("allow_side_effects")), data.get("max_memory"))


def grid(backends: Sequence[str], workers: Sequence[int], chunk_sizes: Sequence[int | str] = ("auto",),
         methods: Sequence[str | None] = (None,)) -> list[Config]:
    """Every combination, once: sequential always has one worker, methods go only to the classic pools.

    The sequential baseline comes first whether it was asked for or not: the
    speed-ups are measured against it.
    """
    configs: list[Config] = [BASELINE]
    for backend, n, chunk, method in itertools.product(backends, workers, chunk_sizes, methods):
        if backend == "sequential":
            continue
        if method is not None and backend not in METHOD_BACKENDS:
            method = None
        config = Config(backend, n, chunk, method)
        if config not in configs:
            configs.append(config)
    return configs


@dataclass(frozen=True)
class Probe:
    """What auto mode decides from: one configuration's timed run on the sample."""

    config: Config
    wall_s: float
    cpu_s: float
    items: int
    runqueue_s: float = 0.0  #: time runnable but waiting for a core (a busy machine), when known

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_ratio(self) -> float:
        """CPU time over the time it could have run: contention on a shared machine does not read as waiting."""
        runnable = self.wall_s - self.runqueue_s
        return self.cpu_s / runnable if runnable > 0 else 0.0


@dataclass(frozen=True)
class Nature:
    """What the sequential baseline says about the task."""

    cpu_ratio: float  #: CPU time / wall time, sequentially: ~1 CPU-bound, ~0 waiting
    item_s: float  #: mean wall time per item, sequentially

    @property
    def waiting(self) -> bool:
        return self.cpu_ratio < WAITING_CPU_RATIO

    @property
    def tiny(self) -> bool:
        return self.item_s < TINY_ITEM_S


def nature(baseline: Probe) -> Nature:
    return Nature(min(baseline.cpu_ratio, 1.0), baseline.wall_s / max(baseline.items, 1))


def first_round(task_nature: Nature, cores: int, sample_size: int) -> list[Config]:
    """After the baseline: threads and processes at the core count; chunk sizes for tiny items."""
    n = max(2, cores)
    configs = [Config("threads", n), Config("processes", n)]
    if task_nature.tiny:
        for chunk in TINY_CHUNKS:
            if chunk * n <= sample_size:  # a chunk bigger than a worker's share is just "one chunk each"
                configs += [Config("threads", n, chunk), Config("processes", n, chunk)]
    return configs


def next_round(task_nature: Nature, probes: Sequence[Probe], sample_size: int,
               in_process: Callable[[str], bool] = lambda name: name == "threads") -> list[Config]:
    """Waiting-bound: double the workers while the last doubling gained more than 10 %.

    Threads are doubled (cheap to start, nothing copied) unless processes led by more
    than 10 %; processes are doubled too when the task also spends a fifth of its time
    on the CPU, since that part may hold the GIL and only processes would scale it.
    """
    if not task_nature.waiting:
        return []
    parallel = [p for p in probes if not p.config.sequential]
    local = [p for p in parallel if in_process(p.config.backend)]
    remote = [p for p in parallel if not in_process(p.config.backend)]
    best_local = min(local, key=lambda p: p.wall_s, default=None)
    best_remote = min(remote, key=lambda p: p.wall_s, default=None)
    leaders = []
    if best_local is not None and (best_remote is None or best_local.wall_s <= best_remote.wall_s * DOUBLING_GAIN):
        leaders.append(best_local.config)
    if best_remote is not None and (not leaders or task_nature.cpu_ratio >= MIXED_CPU_RATIO):
        leaders.append(best_remote.config)
    return [c for c in (_doubled(leader, parallel, sample_size) for leader in leaders) if c is not None]


def _doubled(leader: Config, probes: Sequence[Probe], sample_size: int) -> Config | None:
    """The leader's family with twice the workers, if the last doubling still paid."""
    same = {p.config.workers: p for p in probes
            if (p.config.backend, p.config.chunk_size, p.config.method)
            == (leader.backend, leader.chunk_size, leader.method)}
    most = max(same)
    below = [w for w in same if w < most]
    if below and same[max(below)].wall_s < same[most].wall_s * DOUBLING_GAIN:
        return None  # the last doubling gained 10 % or less
    doubled = most * 2
    if doubled > MAX_WORKERS or doubled > sample_size:
        return None
    return Config(leader.backend, doubled, leader.chunk_size, leader.method)
