"""What a study tries: configurations, an explicit grid, and auto mode's next steps.

    explicit:  grid(backends × workers × chunk sizes × methods) ──► [Config, ...]
    auto:      baseline (sequential): the sampling pass ──► Nature ──► its kind (see diagnose.py)
                    │
                    ├─► first_round(): threads and processes at the core count, plus by kind:
                    │      overhead ......... chunk sizes 256, 16
                    │      already-parallel . processes with 1 library thread each (threadpoolctl)
                    │      mixed ............ processes with enough workers to fill the cores through the waits
                    │      imbalanced ....... chunk 1
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
# A waiting task that still spends this share of its time on the CPU is *mixed*:
# threads top out when that part fills the one core the GIL allows (at 1 / share
# threads), processes at the machine's cores.  Measured: 15 ms of sleep plus ~5 ms
# of pure Python read 0.14-0.25 on a 2-core machine at load 1-7.
MIXED_CPU_RATIO = 0.1
# The sequential run used more than this many cores: the task runs threads of its own
# (BLAS, numba, OpenMP).  A pure-Python loop reads 1.0; numpy matmul on 2 cores 1.9.
ALREADY_PARALLEL_CORES = 1.5
# Moving an item and its result to and from a worker process costs more than the work
# when pickling them and back alone takes this share of the item's time (the pipe
# copies the bytes once more) and they weigh at least this much: below 64 KB the
# per-hand-off cost (20-200 us) dominates, which is *overhead*.
TRANSFER_SHARE = 0.5
TRANSFER_MIN_MB = 0.064
# Heavy-tailed item times: the slowest tenth of the items took this share of the
# time (even items: 0.1; exponential: ~0.3; a Pareto tail with alpha 1.2: 0.5+).
IMBALANCED_TOP_SHARE = 0.4
# Chunk sizes auto mode tries for tiny items, besides the engine's "auto"; the
# larger first, since it is the one that pays for items of a few microseconds
# (the budget may leave no room for the second).
TINY_CHUNKS: tuple[int, ...] = (256, 16)


@dataclass(frozen=True, order=True)
class Config:
    """One way to run the job: where, how many workers, how many items per hand-off, which call."""

    backend: str
    workers: int
    chunk_size: int | str = "auto"
    method: str | None = None
    #: Each worker's libraries (BLAS, OpenMP) capped to this many threads (threadpoolctl); None: as they are.
    library_threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"backend": self.backend, "workers": self.workers,
                                "chunk_size": self.chunk_size, "method": self.method}
        if self.library_threads is not None:  # only where set: every other record reads as it always did
            data["library_threads"] = self.library_threads
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        cap = data.get("library_threads")
        return cls(data["backend"], int(data["workers"]), data.get("chunk_size", "auto"), data.get("method"),
                   None if cap is None else int(cap))

    @property
    def sequential(self) -> bool:
        return self.backend == "sequential"

    def sort_key(self) -> tuple:
        # "auto" and None sort with the numbers and names: a stable order for tables and tests.
        return (self.backend, self.workers, str(self.chunk_size), self.method or "", self.library_threads or 0)

    @property
    def capped(self) -> bool:
        """Its libraries' own thread pools are capped (``library_threads``): an option the study measures
        for a task that is already parallel, runnable as it is (``poolside run --library-threads``)."""
        return self.library_threads is not None


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
    """What the sequential baseline (the sampling pass) says about the task."""

    cpu_ratio: float  #: this thread's CPU time / runnable time, sequentially: ~1 CPU-bound, ~0 waiting
    item_s: float  #: mean wall time per item, sequentially
    cores: float = 1.0  #: cores the process used, sequentially, had it had them (the task's own threads count)
    payload_mb: float = 0.0  #: an item and its result, pickled, per item (what a worker process moves)
    pickle_s: float = 0.0  #: per item, to pickle and unpickle the item and its result once
    top_share: float = 0.1  #: share of the sample's time its slowest tenth of items took (0.1: even)

    @property
    def waiting(self) -> bool:
        """Waiting at least half the time: more workers than cores pay (``waiting`` and ``mixed``)."""
        return self.cpu_ratio < WAITING_CPU_RATIO

    @property
    def tiny(self) -> bool:
        return self.item_s < TINY_ITEM_S

    @property
    def already_parallel(self) -> bool:
        return self.cores > ALREADY_PARALLEL_CORES

    @property
    def transfer(self) -> bool:
        return self.payload_mb >= TRANSFER_MIN_MB and self.pickle_s >= TRANSFER_SHARE * self.item_s

    @property
    def imbalanced(self) -> bool:
        return self.top_share >= IMBALANCED_TOP_SHARE

    @property
    def kind(self) -> str | None:
        """The diagnosis the sampling pass alone makes, most specific first; None: the runs decide."""
        if self.transfer:
            return "transfer"
        if self.tiny:
            return "overhead"
        if self.already_parallel:
            return "already-parallel"
        if self.waiting:
            return "mixed" if self.cpu_ratio >= MIXED_CPU_RATIO else "waiting"
        if self.imbalanced:
            return "imbalanced"
        return None


def nature(baseline: Probe, item_s: Sequence[float] = (), cpu_multiple: float = 1.0, logical_cores: int = 1,
           handoff: tuple[float, float] = (0.0, 0.0)) -> Nature:
    """The sampling pass's numbers: ``item_s`` each item's time; ``cpu_multiple`` the process's CPU time
    over the calling thread's (the task's own threads); ``handoff`` an item's and its result's pickled
    bytes and round-trip seconds, per item."""
    count = max(baseline.items, 1)
    cpu_ratio = min(baseline.cpu_ratio, 1.0)
    cores = min(cpu_ratio * max(cpu_multiple, 1.0), max(logical_cores, 1))
    return Nature(cpu_ratio, baseline.wall_s / count, cores, handoff[0] / 1e6, handoff[1], top_share(item_s))


def top_share(item_s: Sequence[float]) -> float:
    """The share of the total time the slowest tenth of the items took (at least one item)."""
    total = sum(item_s)
    if not item_s or total <= 0:
        return 0.1
    slowest = sorted(item_s, reverse=True)[:max(1, round(len(item_s) / 10))]
    return sum(slowest) / total


def processes_to_fill(cores: int, cpu_ratio: float) -> int:
    """Workers that keep ``cores`` busy when each computes ``cpu_ratio`` of its time (a power of two)."""
    wanted = cores / max(cpu_ratio, 1 / MAX_WORKERS)
    n = max(2, cores)
    while n < wanted and n * 2 <= MAX_WORKERS:
        n *= 2
    return n


def first_round(task_nature: Nature, cores: int, sample_size: int) -> list[Config]:
    """After the baseline: threads and processes at the core count, and what the task's nature asks for.

    Tiny items: chunk sizes, and one process worker fewer than the cores (the parent
    taking the results in needs a core too).  Large hand-offs (transfer): threads one item at a
    time.  Already parallel: processes with each worker's
    libraries capped to one thread.  Waiting plus CPU (mixed): processes with
    enough workers to keep the cores busy through the waits.  Heavy-tailed
    (imbalanced): chunk 1, so no worker holds a chunk of slow items.
    """
    n = max(2, cores)
    configs = [Config("threads", n), Config("processes", n)]
    kind = task_nature.kind
    if kind == "overhead":
        # Tiny items keep the parent busy taking results in: one worker fewer leaves it a core
        # (200,000 x*x: processes ×1 ran 1.18× faster than ×2 on 2 cores, quiet, same sweep).
        configs.append(Config("processes", n - 1))
        for chunk in TINY_CHUNKS:
            if chunk * n <= sample_size:  # a chunk bigger than a worker's share is just "one chunk each"
                configs += [Config("threads", n, chunk), Config("processes", n, chunk)]
    elif kind == "already-parallel":
        configs.append(Config("processes", n, library_threads=1))
    elif kind == "mixed":
        filled = min(processes_to_fill(n, task_nature.cpu_ratio), max(2, sample_size))
        if filled > n:
            configs.append(Config("processes", filled))
    elif kind == "transfer":
        # Megabytes an item: a hand-off's fixed cost is nothing beside the payload, and a chunk of
        # them holds chunk × MB until it is handed back.  Threads one at a time hand each result back
        # at once (4 MB results: 137 ms against 194 ms for auto chunks, median of 7).
        configs.append(Config("threads", n, 1))
    elif kind == "imbalanced" and sample_size >= 2 * n:
        # One item per hand-off first: what the diagnosis asks for is measured within any budget.
        configs = [Config("threads", n, 1), Config("processes", n, 1), *configs]
    return configs


def must_measure(task_nature: Nature, todo: Sequence[Config]) -> set[Config]:
    """The first round's configurations measured whatever the budget: threads and processes, and the
    one option the diagnosis is about (the capped libraries, the cores filled through the waits, the
    large hand-offs one at a time)."""
    wanted = 3 if task_nature.kind in ("already-parallel", "mixed", "transfer") else 2
    return set(todo[:wanted])


def next_round(task_nature: Nature, probes: Sequence[Probe], sample_size: int,
               in_process: Callable[[str], bool] = lambda name: name == "threads") -> list[Config]:
    """Waiting-bound: double the workers while the last doubling gained more than 10 %.

    Threads are doubled (cheap to start, nothing copied) unless processes led by more
    than 10 %; processes are doubled too when the task also spends a tenth of its time
    on the CPU, since that part may hold the GIL and only processes would scale it.
    Waiting plus CPU (mixed) also tries half the processes' leading count, when the
    first round jumped to it.
    """
    if not task_nature.waiting:
        return []
    parallel = [p for p in probes if not p.config.sequential and not p.config.capped]
    local = [p for p in parallel if in_process(p.config.backend)]
    remote = [p for p in parallel if not in_process(p.config.backend)]
    best_local = min(local, key=lambda p: p.wall_s, default=None)
    best_remote = min(remote, key=lambda p: p.wall_s, default=None)
    leaders = []
    if best_local is not None and (best_remote is None or best_local.wall_s <= best_remote.wall_s * DOUBLING_GAIN):
        leaders.append(best_local.config)
    if best_remote is not None and (not leaders or task_nature.cpu_ratio >= MIXED_CPU_RATIO):
        leaders.append(best_remote.config)
    out = [c for c in (_doubled(leader, parallel, sample_size) for leader in leaders) if c is not None]
    if best_remote is not None and task_nature.kind == "mixed":
        half = _halved(best_remote.config, parallel)
        if half is not None:
            out.append(half)
    return out


def _halved(leader: Config, probes: Sequence[Probe]) -> Config | None:
    """Half the leader's workers, when the leader jumped there (first_round's cores filled through
    the waits, rounded to a power of two) past an unmeasured count: the peak may lie below."""
    same = {p.config.workers for p in probes
            if (p.config.backend, p.config.chunk_size, p.config.method, p.config.library_threads)
            == (leader.backend, leader.chunk_size, leader.method, leader.library_threads)}
    half = leader.workers // 2
    if leader.workers != max(same) or half in same or half <= min(same):
        return None
    return Config(leader.backend, half, leader.chunk_size, leader.method)


def _doubled(leader: Config, probes: Sequence[Probe], sample_size: int) -> Config | None:
    """The leader's family with twice the workers, if the last doubling still paid."""
    same = {p.config.workers: p for p in probes
            if (p.config.backend, p.config.chunk_size, p.config.method, p.config.library_threads)
            == (leader.backend, leader.chunk_size, leader.method, leader.library_threads)}
    most = max(same)
    below = [w for w in same if w < most]
    if below and same[max(below)].wall_s < same[most].wall_s * DOUBLING_GAIN:
        return None  # the last doubling gained 10 % or less
    doubled = most * 2
    if doubled > MAX_WORKERS or doubled > sample_size:
        return None
    return Config(leader.backend, doubled, leader.chunk_size, leader.method)
