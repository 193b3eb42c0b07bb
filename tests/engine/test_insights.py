"""Run insights on workloads whose story is known: waits, the GIL, processes."""

from __future__ import annotations

import gc

import pytest

from poolside import run
from tests import engine_tasks as tasks


def insights_of(task, items, **kwargs):
    # Collect what earlier tests left first: a full collection of it during a
    # 0.4 s run of sleeps cost ~20 ms of this process's CPU, which the bars
    # below (a hundredth of a core per busy thread) count as the run's.
    gc.collect()
    job = run(task, items, **kwargs)
    outcomes = list(job)
    assert job.summary.done
    return job.summary.insights, outcomes


def test_sleeps_on_many_threads_are_busy_but_use_little_cpu():
    # One chunk per worker, so that on a loaded machine no thread waits on the engine.
    ins, _ = insights_of(tasks.sleep_for, [0.05] * 64, backend="threads", workers=8, chunk_size=8)
    assert ins.busy_share > 0.6  # the threads spent their time inside the task ...
    assert ins.cpu_utilisation < 0.25  # ... waiting, not computing
    assert ins.busy_threads > 4
    assert ins.task_cores < 0.05  # the threads' own CPU: asleep, whatever else the process did
    assert ins.gil_bound is False  # sleeping threads are not the GIL


def test_a_pure_python_loop_on_threads_shows_the_gil():
    # One chunk per worker, and every worker spinning at once (see SpinTogether).
    ins, _ = insights_of(tasks.SpinTogether(4, 100_000), range(48), backend="threads", workers=4,
                         chunk_size=12)
    assert ins.busy_threads >= 1.5
    assert 0.05 <= ins.task_cores <= 1.4
    assert ins.gil_bound is True


def test_processes_have_no_gil_signal_and_report_their_cpu():
    ins, _ = insights_of(tasks.spin, [200_000] * 8, backend="processes", workers=2, chunk_size=1)
    assert ins.gil_bound is None and not ins.in_process
    assert ins.cpu_workers_s > 0  # the workers' own CPU, sent with their results
    assert ins.cpu_s >= ins.cpu_workers_s


@pytest.mark.parametrize("backend", ["threads", "processes", "mp-pool", "process-per-item", "asyncio"])
def test_the_numbers_add_up(backend, monkeypatch):
    monkeypatch.setattr("poolside.proctree.USS_MIN_RUN_S", 0.0)  # read USS however short the run
    ins, outcomes = insights_of(tasks.fail_on_seven, range(40), backend=backend, workers=2)
    assert ins.items == 40 == len(outcomes)
    assert sum(w.items for w in ins.per_worker) == 40
    assert {w.worker for w in ins.per_worker} <= {0, 1}
    for w in ins.per_worker:
        assert w.busy_s >= 0 and abs(w.busy_s + w.idle_s - ins.wall_s) < 1e-6
        assert 0 <= w.share <= 1
    assert abs(ins.busy_s - sum(o.elapsed_s for o in outcomes)) < 1e-6
    assert 0 <= ins.startup_s <= ins.first_outcome_s <= ins.wall_s
    assert 0 <= ins.drain_s <= ins.wall_s
    assert ins.peak_rss_bytes > 0 and ins.end_uss_bytes and ins.end_uss_bytes > 0
    assert ins.chunk_min >= 1 and ins.chunk_min <= ins.chunk_median <= ins.chunk_max
    assert ins.overhead_per_item_s >= 0
    assert ins.cpu_user_s >= 0 and ins.cpu_system_s >= 0


def test_a_run_too_short_to_pay_for_uss_reports_rss_only():
    # USS costs ~0.3 ms a process to read: a run shorter than USS_MIN_RUN_S skips it.
    ins, _ = insights_of(tasks.square, range(10), backend="processes", workers=2)
    assert ins.wall_s < 0.25 or ins.end_uss_bytes is not None  # (a run slowed past it reads it)
    if ins.wall_s < 0.25:
        assert ins.peak_uss_bytes is None and ins.end_uss_bytes is None
    assert ins.peak_rss_bytes > 0


def test_map_shows_its_first_result_only_at_the_end_and_its_own_chunksize():
    ins, outcomes = insights_of(tasks.sleep_for, [0.1] + [0.0] * 30, backend="mp-thread-pool",
                                method="map", workers=2, chunk_size=4)
    last_end = max(o.started_s + o.elapsed_s for o in outcomes)
    assert ins.first_outcome_s >= last_end  # nothing came out before the last item finished
    assert (ins.chunk_min, ins.chunk_median, ins.chunk_max) == (4, 4, 4)


def test_the_cli_prints_insights_on_request_and_writes_the_companion_summary(tmp_path, capsys):
    import json

    from poolside.cli import main

    out = tmp_path / "records.jsonl"
    assert main(["run", "resources/samples", "-r", "-p", "sha256", "-b", "threads", "-q",
                 "--insights", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "insights:\n" in err and "Peak memory" in err and "the first item started after" in err
    summary = json.loads((tmp_path / "records.summary.json").read_text())
    assert summary["counts"]["ok"] == summary["insights"]["items"] > 0
    assert summary["insights"]["per_worker"] and summary["insights"]["peak_rss_bytes"] > 0
    # Not a terminal, not asked: no block.
    assert main(["run", "resources/samples", "-r", "-p", "sha256", "-b", "threads", "-q"]) == 0
    assert "insights:" not in capsys.readouterr().err


@pytest.mark.parametrize("busy_threads, task_cores, free_cores, expected", [
    (7.5, 0.01, 2.0, False),  # eight threads sleeping: busy, but waiting, not the GIL
    (4.0, 1.0, 2.0, True),  # four threads computing, one core used: the GIL
    (2.0, 1.9, 2.0, False),  # two threads in C code that releases the GIL: both cores
    (1.9, 0.15, 1.0, True),  # the GIL on a loaded machine: less than a core, still computing
    (1.2, 1.0, 2.0, False),  # one thread busy at a time: nothing to serialise
])
def test_the_gil_signal_on_its_cases(busy_threads, task_cores, free_cores, expected):
    from poolside.engine.insights import _gil_bound

    assert _gil_bound(busy_threads, task_cores, free_cores) is expected
