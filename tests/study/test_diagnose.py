"""The diagnoses: each near its threshold, each steering auto mode, each *why* citing its numbers.

The sampling pass's numbers are a :class:`Nature` (numbers in); the runs are a
real study's (``tests/study_data/grid_cpu.json``); the tasks at the end are real.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from poolside.study import Config, compare
from poolside.study.diagnose import diagnose
from poolside.study.plan import (
    ALREADY_PARALLEL_CORES,
    IMBALANCED_TOP_SHARE,
    MIXED_CPU_RATIO,
    TINY_ITEM_S,
    TRANSFER_MIN_MB,
    TRANSFER_SHARE,
    WAITING_CPU_RATIO,
    Nature,
    first_round,
    must_measure,
    processes_to_fill,
    top_share,
)
from poolside.study.recommend import recommend
from tests.study_fakes import study

CPU = Nature(cpu_ratio=1.0, item_s=0.008)


def kind(n: Nature, oncpu: float | None = 0.3) -> str:
    return diagnose(study().configs, 2, n, oncpu).kind


@pytest.mark.parametrize(("below", "above", "kinds"), [
    (dataclasses.replace(CPU, cores=ALREADY_PARALLEL_CORES - 0.01),
     dataclasses.replace(CPU, cores=ALREADY_PARALLEL_CORES + 0.01), ("cpu-gil", "already-parallel")),
    (dataclasses.replace(CPU, top_share=IMBALANCED_TOP_SHARE - 0.01),
     dataclasses.replace(CPU, top_share=IMBALANCED_TOP_SHARE), ("cpu-gil", "imbalanced")),
    (dataclasses.replace(CPU, item_s=TINY_ITEM_S), dataclasses.replace(CPU, item_s=TINY_ITEM_S * 0.99),
     ("cpu-gil", "overhead")),
    (dataclasses.replace(CPU, payload_mb=TRANSFER_MIN_MB, pickle_s=CPU.item_s * TRANSFER_SHARE * 0.99),
     dataclasses.replace(CPU, payload_mb=TRANSFER_MIN_MB, pickle_s=CPU.item_s * TRANSFER_SHARE),
     ("cpu-gil", "transfer")),
    (dataclasses.replace(CPU, payload_mb=TRANSFER_MIN_MB * 0.99, pickle_s=CPU.item_s),
     dataclasses.replace(CPU, payload_mb=TRANSFER_MIN_MB, pickle_s=CPU.item_s), ("cpu-gil", "transfer")),
    (dataclasses.replace(CPU, cpu_ratio=MIXED_CPU_RATIO * 0.99), dataclasses.replace(CPU, cpu_ratio=MIXED_CPU_RATIO),
     ("waiting", "mixed")),
    (dataclasses.replace(CPU, cpu_ratio=WAITING_CPU_RATIO * 0.99),
     dataclasses.replace(CPU, cpu_ratio=WAITING_CPU_RATIO), ("mixed", "cpu-gil")),
])
def test_each_diagnosis_flips_at_its_threshold(below, above, kinds):
    assert (kind(below), kind(above)) == kinds


def test_the_gil_probe_decides_cpu_work_and_in_between_what_scaled_better_does():
    assert kind(CPU, oncpu=0.49) == "cpu-gil"
    assert kind(CPU, oncpu=0.71) == "cpu-parallel"
    # In between: processes ×4 scaled 1.57× against threads ×4's 1.11× in this study.
    assert kind(CPU, oncpu=0.6) == "cpu-gil"


def test_the_most_specific_diagnosis_wins():
    everything = Nature(cpu_ratio=0.3, item_s=0.001, cores=1.9, payload_mb=1.0, pickle_s=0.002, top_share=0.6)
    assert kind(everything) == "transfer"
    assert kind(dataclasses.replace(everything, payload_mb=0.0)) == "already-parallel"
    assert kind(dataclasses.replace(everything, payload_mb=0.0, cores=1.0)) == "mixed"


def test_a_why_cites_the_measured_numbers_of_its_diagnosis():
    configs = study().configs
    transfer = Nature(cpu_ratio=1.0, item_s=0.0012, payload_mb=4.0, pickle_s=0.0034)
    why = recommend(configs, diagnose(configs, 2, transfer, 0.3), 2).why
    assert "4.0 MB" in why and "3.4 ms" in why and "1.2 ms of work" in why and "1,176 MB/s" in why
    assert "MB/s and ran" in why  # the processes' measured hand-off rate
    parallel = Nature(cpu_ratio=1.0, item_s=0.02, cores=1.85)
    why = recommend(configs, diagnose(configs, 2, parallel, 0.1), 2).why
    assert "already used 1.9 of 2 cores" in why
    heavy = Nature(cpu_ratio=1.0, item_s=0.02, top_share=0.62)
    why = recommend(configs, diagnose(configs, 2, heavy, 0.3, [0.001] * 9 + [0.25]), 2).why
    assert "slowest tenth of the items took 62%" in why and "250.0 ms" in why and "1.0 ms" in why
    mixed = Nature(cpu_ratio=0.25, item_s=0.02)
    why = recommend(configs, diagnose(configs, 2, mixed), 2).why
    assert "busy 25% of the time" in why and "processes ×4 (more workers than the 2 cores)" in why


def test_a_capped_configuration_that_runs_fastest_is_the_pick():
    """``poolside run --library-threads`` and the Run tab run it as measured: it may win."""
    configs = study().configs
    fastest = min((c for c in configs if c.runs), key=lambda c: c.median_s)
    capped = dataclasses.replace(fastest, config=dataclasses.replace(fastest.config, library_threads=1),
                                 runs=[dataclasses.replace(r, wall_s=r.wall_s / 2) for r in fastest.runs])
    with_cap = [*configs, capped]
    from poolside.study.recommend import fill_speedups

    fill_speedups(with_cap)
    d = diagnose(with_cap, 2, Nature(cpu_ratio=1.0, item_s=0.02, cores=1.9), 0.1)
    rec = recommend(with_cap, d, 2)
    assert rec.config == capped.config and rec.config.library_threads == 1
    assert d.evidence["capped_threads"] == 1 and d.evidence["capped_speedup"] == round(capped.speedup, 3)
    assert "with 1 library thread each (threadpoolctl) ran" in rec.why


@pytest.mark.parametrize(("n", "extra"), [
    (Nature(cpu_ratio=1.0, item_s=0.02, cores=1.9), [Config("processes", 2, library_threads=1)]),
    (Nature(cpu_ratio=0.25, item_s=0.02), [Config("processes", 8)]),
    (Nature(cpu_ratio=0.45, item_s=0.02), [Config("processes", 8)]),  # 2 / 0.45 = 4.4 workers: the next power of 2

    (Nature(cpu_ratio=1.0, item_s=0.02, payload_mb=4.0, pickle_s=0.03), [Config("threads", 2, 1)]),
    (Nature(cpu_ratio=0.05, item_s=0.02), []),  # waiting: doubling threads does it (next_round)
    (CPU, []),
])
def test_the_diagnosis_decides_what_auto_mode_tries(n, extra):
    assert first_round(n, 2, 200) == [Config("threads", 2), Config("processes", 2), *extra]


def test_a_heavy_tail_is_handed_out_one_item_at_a_time_first():
    heavy = Nature(cpu_ratio=1.0, item_s=0.02, top_share=0.5)
    todo = first_round(heavy, 2, 200)
    assert todo == [Config("threads", 2, 1), Config("processes", 2, 1), Config("threads", 2), Config("processes", 2)]
    assert must_measure(heavy, todo) == set(todo[:2])
    mixed = Nature(cpu_ratio=0.25, item_s=0.02)
    assert must_measure(mixed, first_round(mixed, 2, 200)) == {
        Config("threads", 2), Config("processes", 2), Config("processes", 8)}


def test_filling_the_cores_through_the_waits():
    assert processes_to_fill(2, 0.25) == 8 and processes_to_fill(2, 1.0) == 2 and processes_to_fill(4, 0.3) == 16
    assert processes_to_fill(2, 0.0) == 256  # never past MAX_WORKERS


def test_the_tail_share():
    assert top_share([1.0] * 10) == pytest.approx(0.1)
    assert top_share([1.0] * 9 + [9.0]) == pytest.approx(0.5)
    assert top_share([]) == 0.1


# -- real tasks -------------------------------------------------------------------------


def heavy_tailed(item: int) -> int:
    """Busy for 0.5 ms of CPU, and one item in ten for 12 ms (CPU time: a busy machine does not shorten it)."""
    end = time.thread_time() + (0.012 if item % 10 == 0 else 0.0005)
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


_BLOCK = bytes(1_000_000)


def big_result(item: int) -> bytes:
    return _BLOCK[item % 2:]  # a 1 MB copy: ~0.1 ms of work, ~1 ms to pickle and back


def wait_and_compute(item: int) -> int:
    time.sleep(0.003)  # ok: the item's own work (a wait), not a test waiting
    end = time.thread_time() + 0.002
    while time.thread_time() < end:
        pass
    return item


@pytest.mark.parametrize(("task", "expected"), [
    (heavy_tailed, "imbalanced"), (big_result, "transfer"), (wait_and_compute, "mixed")])
def test_real_tasks_read_as_what_limits_them(task, expected):
    result = compare(task, range(40), sample=40, repeats=1, backends=("threads",), workers=(2,), record=False)
    assert result.diagnosis is not None and result.diagnosis.kind == expected, result.diagnosis
    assert result.recommendation is not None


def test_numpy_that_runs_blas_threads_reads_already_parallel():
    np = pytest.importorskip("numpy")
    from threadpoolctl import threadpool_info

    if not any(p.get("user_api") == "blas" and p.get("num_threads", 1) >= 2 for p in threadpool_info()):
        pytest.skip("BLAS runs one thread here")
    matrix = np.random.default_rng(0).random((300, 300))
    result = compare(_Matmul(matrix), range(12), sample=12, repeats=1, backends=("threads",), workers=(2,),
                     record=False)
    assert result.diagnosis is not None and result.diagnosis.kind == "already-parallel", result.diagnosis
    assert result.diagnosis.evidence["sequential_cores"] > ALREADY_PARALLEL_CORES


class _Matmul:
    def __init__(self, matrix) -> None:
        self.matrix = matrix

    def __call__(self, item: int) -> float:
        return float((self.matrix @ self.matrix @ self.matrix).sum())


def test_a_study_record_keeps_the_sample_times_and_the_forecast():
    result = compare(heavy_tailed, range(400), sample=40, repeats=2, backends=("threads",), workers=(2,),
                     record=False)
    assert len(result.item_s) == 40 and result.forecast is not None
    f = result.forecast
    assert f.items == 400 and f.low <= f.seconds <= f.high and f.config == result.recommendation.config
    assert type(result).from_dict(result.to_dict()).forecast == f


def test_waiting_plus_cpu_also_tries_below_the_jump_to_fill_the_cores():
    from poolside.study.plan import Probe, next_round

    mixed = Nature(cpu_ratio=0.14, item_s=0.025)
    base = Probe(Config("sequential", 1), 2.5, 0.35, 100)
    threads = Probe(Config("threads", 2), 1.4, 0.35, 100)
    two = Probe(Config("processes", 2), 1.3, 0.35, 100)
    sixteen = Probe(Config("processes", 16), 0.5, 0.35, 100)
    todo = next_round(mixed, [base, threads, two, sixteen], 100)
    assert Config("processes", 8) in todo and Config("processes", 32) in todo
    eight = Probe(Config("processes", 8), 0.4, 0.35, 100)  # the leader now, and not the most: no more halving
    assert Config("processes", 4) not in next_round(mixed, [base, threads, two, sixteen, eight], 100)
