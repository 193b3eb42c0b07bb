"""A study: the same sample under several configurations, repeats interleaved, within a budget.

    items ──shuffle (seeded)──► run one by one, in this thread, until ~2 s of work and >= 20 items
            │                   (the sample; read once, so the page cache is warm)
            ▼
    auto:  baseline: warm-up + probe ──► nature ──► first_round: warm-up + probe each
           └─ next_round while the budget lasts (double the workers of a waiting task) ─┐
    grid:  every configuration: warm-up                                                  │
            ▼                                                                           ▼
    repeats, interleaved, each round in a fresh order:  B A C  C B A  A C B
            (drift on a shared machine hits all alike; a shuffled order keeps a fixed
             pattern, a neighbour's periodic job or a cache left warm by one
             configuration for the next, from favouring the same one every round)
            ▼
    speed-ups ─► diagnosis ─► winner, lead, why ─► scaling ─► StudyResult

Every run goes through :func:`~poolside.study.measure.measure` (the engine,
with outcomes counted and item times summed, and the run's insights).  A
warm-up is untimed: it starts the configuration's workers (the study begins
with none parked, so the first process warm-up is a cold start, reported on
its own) and reads the sample once more.  ``cancel()`` from
any thread stops the run in progress and the study returns what it has, marked
``cancelled``.  ``on_progress`` is called in the study's thread before every run;
``on_round`` after every interleaved round (each configuration measured once
more) with the partial numbers so far, so a front end can draw them as they come.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import memory
from .cluster import auto_configs
from .cluster import note as cluster_note
from .measure import Current, Handoff, gil_probe, in_process, measure, sched_clocks
from .plan import BASELINE, Config, Probe, first_round, must_measure, nature, next_round
from .record import ConfigResult, RunNumbers, StudyResult
from .scratch import Scratch

# About this much sequential work in the sample: long enough that scheduling
# noise (~10 ms) is under 1 %, short enough for a dozen configurations x 3
# repeats to fit a minute.
SAMPLE_S = 2.0
MIN_SAMPLE_ITEMS = 20
# The sequential baseline alone runs the sample ~6 times (sampling, warm-up,
# probe, 3 repeats); the parallel configurations together take about as long
# again: a budget buys a sample of budget / 12 seconds at most.
BUDGET_PER_SAMPLE = 12
# The GIL probe runs about this much sequential work (and at least 3 items per thread).
GIL_PROBE_S = 0.4
GIL_PROBE_ITEMS = 12
# The sampling pass waited for a core this share of its time or more: other programs
# hold the cores, and a CPU-bound configuration with more workers than cores wins a
# bigger share of them from those programs (measured at load 18 on 2 cores: pure
# Python on processes x32 ran 2.5x processes x2), which a quiet machine would not repeat.
BUSY_MACHINE = 0.25
# Items of the sampling pass whose times (and hand-off) are kept: enough for a tail's
# shape and a forecast's range; tiny items make samples of millions, and the record keeps these.
ITEM_TIMES = 2000


class StudyError(ValueError):
    """A study that cannot run as asked (no items, a plugin with side effects not confirmed)."""


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class Progress:
    """Where a study is: told before each run."""

    phase: str  #: "sample", "gil-probe", "warm-up", "probe" or "repeat"
    config: Config | None
    repeat: int  #: 1-based, for "repeat"
    repeats: int
    runs_done: int
    runs_planned: int  #: grows in auto mode as it decides
    elapsed_s: float


@dataclass(frozen=True)
class Round:
    """The repeats so far, told after each interleaved round (every configuration measured once more).

    ``configs`` are snapshots of the configurations being repeated, baseline
    first: their runs so far and the speed-up against the baseline's median
    *so far*.  The final record replaces them.
    """

    round: int  #: 1-based
    repeats: int
    configs: list[ConfigResult]


class Study:
    """Compare configurations of one job on a sample of its items.  ``run()`` blocks; ``cancel()`` is safe anywhere."""

    def __init__(self, task: Callable[[Any], Any], items: Sequence[Any], *, configs: Sequence[Config] | None = None,
                 repeats: int = 3, sample: int | None = None, budget_s: float = 60.0,
                 timeout: float | None = None, outputs: tuple[str, ...] = (), plugin: str = "",
                 params: dict[str, Any] | None = None, seed: int | None = None, max_memory: int | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 on_round: Callable[[Round], None] | None = None,
                 cluster: dict[str, Any] | None = None,
                 predict_workers: Sequence[int] | None = None) -> None:
        if not items:
            raise StudyError("no items to compare on")
        if repeats < 1:
            raise StudyError(f"repeats must be at least 1, got {repeats}")
        self.items = list(items)
        self.configs = None if configs is None else list(dict.fromkeys([BASELINE, *configs]))
        self.repeats, self.sample_size, self.budget_s = repeats, sample, budget_s
        # Drawn when not given, and recorded either way: the sample and every round's order repeat from it.
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else seed
        self.timeout, self.on_progress, self.on_round = timeout, on_progress, on_round
        self.predict_workers = None if predict_workers is None else list(predict_workers)
        self.max_memory = max_memory  #: bytes the recommendation may need (None: what is available)
        self._scratch = Scratch(task, outputs)
        #: The dask configurations' backend options (address, files): see poolside.study.cluster.
        self._cluster = dict(cluster or {})
        self._current = Current()
        self._results: dict[Config, ConfigResult] = {}
        self._sample: list[Any] = []
        self._runs_done = 0
        self._planned = 0
        self._calibration = Probe(BASELINE, 0.0, 0.0, 0)
        self._nature = nature(self._calibration)
        self._item_s: list[float] = []  # the sampling pass's time per item, sequentially
        self._handoff = Handoff()
        self._oncpu: float | None = None
        self._t0 = 0.0
        from ..system import system_info

        self._system = system_info()
        self.result = StudyResult(plugin or getattr(task, "name", getattr(task, "__name__", "task")),
                                  dict(params or {}), 0, len(self.items), _machine(self._system), [],
                                  repeats, "auto" if configs is None else "grid", budget_s=budget_s,
                                  poolside=_version(), seed=self.seed)

    @property
    def scratch_root(self) -> Any:
        return self._scratch.root

    def cancel(self) -> None:
        self._current.cancel()

    def run(self) -> StudyResult:
        from ..backends.workers import stop_idle_workers

        stop_idle_workers()  # every configuration starts from the same, cold, state
        self._memory_limit = memory.limit(self.max_memory)  # before any worker holds memory
        self._t0 = time.perf_counter()
        try:
            self._sample = self._pick_sample()
            self.result.items = len(self._sample)
            self.result.item_s = list(self._item_s)
            self._oncpu = self._gil_probe()
            chosen = self._explore() if self.configs is None else [self._warm(c) for c in self.configs]
            self._repeat([c for c in chosen if c.error is None])
        except _Cancelled:
            self.result.cancelled = True
        finally:
            stop_idle_workers()  # a study leaves no processes behind, not even parked ones
            self._scratch.close()
        return self._finish()

    # -- the sample ------------------------------------------------------------

    def _pick_sample(self) -> list[Any]:
        order = list(range(len(self.items)))
        random.Random(self.seed).shuffle(order)
        target = min(SAMPLE_S, self.budget_s / BUDGET_PER_SAMPLE)
        # Twenty items may take longer than the target, but not past this: the budget comes first.
        limit = max(target, self.budget_s / (BUDGET_PER_SAMPLE / 2))
        wanted = self.sample_size or len(order)
        taken: list[int] = []
        spent = 0.0
        clocks = sched_clocks()
        cpu_start, process_start, loop_start = time.thread_time(), time.process_time(), time.perf_counter()
        self._progress("sample", None)
        with self._scratch.task() as task:
            for index in order[:wanted]:
                if self._current.cancelled:
                    raise _Cancelled
                timed = len(self._item_s) < ITEM_TIMES
                before = sched_clocks() if timed else None
                start = time.perf_counter()
                try:
                    value = task(self.items[index])
                except Exception:
                    value = None  # a failing item is part of the workload: its outcome shows in every run
                took = time.perf_counter() - start
                spent += took
                if timed:
                    # Runnable time, not wall time: an item preempted by another program on a
                    # shared machine must not read as a slow item (a heavy tail that is not there).
                    after = sched_clocks()
                    queued = after[1] - before[1] if before is not None and after is not None else 0.0
                    self._item_s.append(max(took - queued, 0.0))
                    self._handoff.add(self.items[index], value)
                taken.append(index)
                if self.sample_size is None and spent >= target and (
                        len(taken) >= MIN_SAMPLE_ITEMS or spent >= limit):
                    break
        notes = self.result.notes
        if self.sample_size is None and len(taken) < len(order) and (
                target < SAMPLE_S or len(taken) < MIN_SAMPLE_ITEMS):
            notes.append({"code": "sample-shrunk", "budget_s": self.budget_s, "target_s": target,
                          "items": len(taken)})
        notes.append({"code": "sample", "items": len(taken), "total": len(order), "sequential_s": spent})
        self._calibrate(len(taken), clocks, cpu_start, process_start, loop_start)
        return [self.items[i] for i in sorted(taken)]

    def _calibrate(self, items: int, clocks: tuple[float, float] | None, cpu_start: float, process_start: float,
                   loop_start: float) -> None:
        """The sampling pass's clocks read: auto mode's first probe, the task's nature, a busy machine noted.

        The sampling pass ran exactly the sample, sequentially, in this thread: it is the
        baseline's warm-up and auto mode's first probe, at no extra cost.
        """
        # The hand-off's pickling ran in the loop but is no part of the task: taken out of its clocks.
        handoff = self._handoff.seconds
        cpu, wall, after = (time.thread_time() - cpu_start - handoff, time.perf_counter() - loop_start - handoff,
                            sched_clocks())
        queued = after[1] - clocks[1] if clocks is not None and after is not None else 0.0
        self._calibration = Probe(BASELINE, wall, cpu, items, queued)
        if wall > 0 and queued / wall > BUSY_MACHINE:
            self.result.notes.append({"code": "busy-machine", "runqueue_share": round(queued / wall, 3)})
        # The process's CPU per CPU second of this thread (2.0: the task's own threads, BLAS or
        # OpenMP, used as much again): a ratio of CPU times, so a busy machine does not hide it.
        process_cpu, thread_cpu = time.process_time() - process_start, time.thread_time() - cpu_start
        multiple = process_cpu / thread_cpu if thread_cpu > 0 else 1.0
        self._nature = nature(self._calibration, self._item_s, multiple, self._system.logical_cores,
                              self._handoff.per_item)

    def _gil_probe(self) -> float | None:
        """Does the task hold the GIL?  A short run on plain threads (see measure.gil_probe)."""
        if self._calibration.items == 0 or self._nature.waiting:
            return None  # waiting tasks are told apart without it
        item_s = self._calibration.wall_s / self._calibration.items
        count = max(GIL_PROBE_ITEMS, math.ceil(GIL_PROBE_S / max(item_s, 1e-9)))
        self._progress("gil-probe", None)
        # Untimed, so a small sample may be gone through more than once.
        items = list(itertools.islice(itertools.cycle(self._sample), count))
        with self._scratch.task() as task:
            share = gil_probe(task, items, self._current)
        if self._current.cancelled:
            raise _Cancelled
        return share

    # -- runs ------------------------------------------------------------------

    def _progress(self, phase: str, config: Config | None, repeat: int = 0) -> None:
        if self._current.cancelled:
            raise _Cancelled
        if self.on_progress is not None:
            self.on_progress(Progress(phase, config, repeat, self.repeats, self._runs_done,
                                      max(self._planned, self._runs_done + 1), time.perf_counter() - self._t0))

    def _measure(self, config: Config) -> RunNumbers:
        # The study starts with no parked workers, so the first process warm-up starts cold;
        # later ones adopt what is parked and start only the extra workers (stopping them
        # for each warm-up cost seconds per configuration: 16 processes took 5.6 s here).
        with self._scratch.task() as task:
            numbers = measure(task, self._sample, config, timeout=self.timeout, current=self._current,
                              backend_options=self._cluster if config.backend == "dask" else None)
        self._runs_done += 1
        if self._current.cancelled:
            raise _Cancelled
        return numbers

    def _warm(self, config: Config, probe: bool = False) -> ConfigResult:
        result = self._results.setdefault(config, ConfigResult(config))
        self.result.configs.append(result)
        result.error = memory.too_big(config, self.result.configs, self._memory_limit)
        if result.error is not None:  # predicted not to fit in memory: never started
            return result
        self._planned += 1 + probe + self.repeats
        self._progress("warm-up", config)
        try:
            result.warmup = self._measure(config)
            if probe:
                self._progress("probe", config)
                result.probe_s = self._measure(config).wall_s
        except (ValueError, TypeError) as e:  # an unavailable backend, an unpicklable task
            result.error = str(e)
            self._planned -= self.repeats
        return result

    def _repeat(self, chosen: list[ConfigResult]) -> None:
        self._rewarm_processes(chosen)
        # Randomized multiple interleaved trials (Abedi & Brecht, ICPE 2017): a fixed order
        # made two identical systems differ by 38 % "at 95 % confidence" in their study.
        order = random.Random(f"order-{self.seed}")
        for r in range(1, self.repeats + 1):
            this_round = list(chosen)
            order.shuffle(this_round)
            for result in this_round:
                self._progress("repeat", result.config, r)
                result.runs.append(self._measure(result.config))
            self._tell_round(r, chosen)

    def _tell_round(self, r: int, chosen: list[ConfigResult]) -> None:
        if self.on_round is None:
            return
        from .recommend import fill_speedups

        fill_speedups(chosen)  # against the baseline's median so far; _finish computes them again
        # Snapshots: the study goes on adding runs to its own records while the caller reads these.
        self.on_round(Round(r, self.repeats, [dataclasses.replace(c, runs=list(c.runs)) for c in chosen]))

    def _rewarm_processes(self, chosen: list[ConfigResult]) -> None:
        """Leave the most process workers any configuration needs parked, so no repeat pays a start."""
        procs = [c for c in chosen if c.config.backend == "processes"]
        if procs:
            widest = max(procs, key=lambda c: c.config.workers)
            self._progress("warm-up", widest.config)
            self._measure(widest.config)

    # -- auto mode ---------------------------------------------------------------

    def _explore(self) -> list[ConfigResult]:
        base = self._results.setdefault(BASELINE, ConfigResult(BASELINE))
        self.result.configs.append(base)
        self._planned += self.repeats
        base.probe_s = self._calibration.wall_s
        task_nature = self._nature
        cores = self._system.usable_cores
        todo = first_round(task_nature, cores, len(self._sample)) + auto_configs(self._cluster, cores)
        # Threads and processes at the core count are always measured: without both, no
        # recommendation means much; so is the option the diagnosis is about, and the cluster
        # when one is set.  The budget governs what auto mode adds to them (it sized the sample
        # so that these fit).
        mandatory = must_measure(task_nature, todo) | {c for c in todo if c.backend == "dask"}
        while todo:
            for config in todo:
                if config not in mandatory and not self._affordable():
                    return self._fit_budget()
                self._warm(config, probe=True)
            probes = [self._calibration] + [
                Probe(c.config, c.probe_s, c.warmup.cpu_s if c.warmup else 0.0, len(self._sample))
                for c in self.result.configs if c.probe_s is not None and not c.config.sequential]
            todo = [c for c in next_round(task_nature, probes, len(self._sample), in_process)
                    if c not in self._results]
        return self._fit_budget()

    def _measure_estimate(self, configs: Sequence[ConfigResult]) -> float:
        return self.repeats * sum(c.probe_s or 0.0 for c in configs)

    def _affordable(self) -> bool:
        """One more configuration (warm-up, probe, repeats) still fits the budget."""
        ran = [c for c in self.result.configs if c.probe_s is not None]
        guess = min(c.probe_s or 0.0 for c in ran) if ran else 0.0
        spent = time.perf_counter() - self._t0
        return spent + (2 + self.repeats) * guess + self._measure_estimate(ran) <= self.budget_s

    def _fit_budget(self) -> list[ConfigResult]:
        """The configurations to repeat: the slowest are left at their probe if the repeats would not fit."""
        chosen = [c for c in self.result.configs if c.error is None and c.probe_s is not None]
        spent = time.perf_counter() - self._t0
        dropped: list[ConfigResult] = []
        while len(chosen) > 3 and spent + self._measure_estimate(chosen) > self.budget_s:
            slowest = max((c for c in chosen if not c.config.sequential), key=lambda c: c.probe_s or 0.0)
            chosen.remove(slowest)
            dropped.append(slowest)
        # Measured once (their probe_s is in the record), never a winner by a lucky single run.
        self._planned -= self.repeats * len(dropped)
        if dropped:
            self.result.notes.append({"code": "dropped", "configs": [c.config.to_dict() for c in dropped]})
        return chosen

    # -- the verdict ---------------------------------------------------------------

    def _finish(self) -> StudyResult:
        from .diagnose import diagnose
        from .recommend import fill_speedups, job_forecast, recommend, scaling, winner_and_lead

        res = self.result
        res.elapsed_s = time.perf_counter() - self._t0
        fill_speedups(res.configs)
        cores = self._system.usable_cores
        if any(c.runs for c in res.configs):
            res.diagnosis = diagnose(res.configs, cores, self._nature, self._oncpu, self._item_s)
            res.recommendation = recommend(res.configs, res.diagnosis, cores, self.max_memory)
            res.lead = winner_and_lead(res.configs)[2]
            res.scaling = scaling(res.configs, self._system.physical_cores, seed=self.seed,
                                  backend=None if res.recommendation is None else res.recommendation.config.backend,
                                  predict=self.predict_workers)
            res.forecast = job_forecast(res)
        found = cluster_note(res.configs, self._sample, self._cluster) if not res.cancelled else None
        if found is not None:
            res.notes.append(found)
        if res.lead is not None and math.comb(2 * res.lead.repeats, res.lead.repeats) <= 20:
            res.notes.append({"code": "significance", "repeats": res.lead.repeats,
                              "p_min": 1 / math.comb(2 * res.lead.repeats, res.lead.repeats)})
        if res.mode == "auto" and res.budget_s and res.elapsed_s > res.budget_s * 1.1 and not res.cancelled:
            res.notes.append({"code": "over-budget", "elapsed_s": res.elapsed_s, "budget_s": res.budget_s})
        return res


def _machine(info: Any) -> dict[str, Any]:
    return {"logical": info.logical_cores, "physical": info.physical_cores, "usable": info.usable_cores,
            "cpu": info.cpu_model, "python": platform.python_version(), "os": info.platform}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("poolside")
    except Exception as e:  # a checkout run without being installed: the record says "unknown"
        from ..log import get_logger

        get_logger(__name__).debug("poolside's version is unknown: %s", e)
        return "unknown"
