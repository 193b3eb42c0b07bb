"""The classic pools, behind the same interface, for comparison in the window."""

from __future__ import annotations

import pytest

from poolside import run
from tests import engine_tasks as tasks

CLASSIC = ["process-executor", "thread-executor", "mp-pool"]


@pytest.mark.parametrize("backend", CLASSIC)
def test_classic_pool_runs_and_accounts(backend):
    job = run(tasks.fail_on_seven, range(300), backend=backend, workers=2)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(300))
    assert job.summary.counts == {"ok": 299, "failed": 1, "timed_out": 0, "cancelled": 0}
    bad = next(o for o in outcomes if not o.ok)
    assert bad.item == 7 and bad.error.type == "ValueError"
    assert {o.worker for o in outcomes} <= {0, 1}


@pytest.mark.parametrize("backend", CLASSIC)
def test_classic_pool_refuses_a_timeout_it_cannot_keep(backend):
    with pytest.raises(ValueError, match="no per-item timeout"):
        run(tasks.square, range(3), backend=backend, timeout=1)


def test_process_executor_breaks_on_a_dead_worker_as_it_does_in_the_stdlib():
    # The comparison the window shows: one crash fails many items here,
    # where the processes backend loses exactly one.
    job = run(tasks.exit_on_50, range(100), backend="process-executor", workers=2, chunk_size=1)
    outcomes = list(job)
    assert len(outcomes) == 100
    broken = [o for o in outcomes if not o.ok]
    # The culprit and whatever was pending when the executor noticed the death
    # (how many depends on timing: the other worker may have finished the rest).
    assert 50 in {o.item for o in broken}
    assert all(o.error.type == "BrokenProcessPool" for o in broken)


def test_mp_pool_ends_the_call_it_lost_instead_of_waiting_forever():
    # multiprocessing.Pool itself would wait forever for the chunk holding item 50.
    job = run(tasks.exit_on_50, range(100), backend="mp-pool", workers=2, chunk_size=10)
    outcomes = list(job)
    assert len(outcomes) == 100 and not job.cancelled
    lost = sorted(o.item for o in outcomes if not o.ok)
    assert lost == list(range(50, 60))
    assert all(o.error.type == "WorkerDied" for o in outcomes if not o.ok)
