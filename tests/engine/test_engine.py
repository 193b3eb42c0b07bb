"""The engine's contract: every item ends in exactly one outcome, streamed."""

from __future__ import annotations

import collections
import itertools
import threading

import psutil
import pytest

from poolside import Status, backend_info, backend_names, default_workers, run, system_info
from poolside.engine.job import InputError
from tests import engine_tasks as tasks

BACKENDS = ["sequential", "threads", "processes"]


def by_item(outcomes):
    return {o.item: o for o in outcomes}


def assert_one_outcome_each(outcomes, n):
    indices = sorted(o.index for o in outcomes)
    assert indices == list(range(n)), "every item exactly once"


@pytest.mark.parametrize("backend", BACKENDS)
def test_ok_and_failed_outcomes(backend):
    job = run(tasks.fail_on_seven, range(20), backend=backend, workers=2)
    outcomes = list(job)
    assert_one_outcome_each(outcomes, 20)
    got = by_item(outcomes)
    assert got[3].status is Status.OK and got[3].value == 9 and got[3].error is None
    bad = got[7]
    assert bad.status == "failed"
    assert bad.error.type == "ValueError"
    assert bad.error.message == "item 7 is unlucky"
    assert str(bad.error) == "ValueError: item 7 is unlucky"
    assert "fail_on_seven" in bad.error.traceback  # the worker's own traceback
    summary = job.summary
    assert summary.done and summary.counts == {"ok": 19, "failed": 1, "timed_out": 0, "cancelled": 0}
    assert summary.total == 20 and summary.items_per_s > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_ordered_streams_in_input_order(backend):
    items = [0.02, 0.0, 0.01, 0.0, 0.0, 0.015, 0.0]
    outcomes = list(run(tasks.sleep_for, items, backend=backend, workers=2, ordered=True, chunk_size=1))
    assert [o.index for o in outcomes] == list(range(len(items)))
    assert [o.value for o in outcomes] == items


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_unordered_streams_in_completion_order(backend):
    # The slow first item finishes last: unordered output does not wait for it.
    items = [0.3] + [0.0] * 10
    outcomes = list(run(tasks.sleep_for, items, backend=backend, workers=2, chunk_size=1))
    assert_one_outcome_each(outcomes, len(items))
    assert outcomes[-1].index == 0


def test_outcome_records_worker_and_timing():
    outcomes = list(run(tasks.sleep_for, [0.01] * 6, backend="threads", workers=3, chunk_size=1))
    assert {o.worker for o in outcomes} <= {0, 1, 2}
    assert all(o.elapsed_s >= 0.009 for o in outcomes)
    assert all(o.started_s is not None and o.started_s >= 0 for o in outcomes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fixed_chunks_lose_and_mislabel_nothing(backend):
    outcomes = list(run(tasks.fail_on_seven, range(1000), backend=backend, workers=2, chunk_size=64))
    assert_one_outcome_each(outcomes, 1000)
    for o in outcomes:
        assert (o.status == "failed") == (o.item == 7)
        if o.ok:
            assert o.value == o.item * o.item


def test_callback_mode_streams_batches_and_finishes_once():
    batches, finished = [], []
    job = run(tasks.square, range(500), backend="threads", workers=2,
              on_outcomes=batches.append, on_finish=finished.append)
    assert job.wait(60)
    outcomes = [o for batch in batches for o in batch]
    assert_one_outcome_each(outcomes, 500)
    assert len(finished) == 1 and finished[0].counts["ok"] == 500 and finished[0].done
    with pytest.raises(TypeError):
        iter(job)


def test_wait_without_iterating_does_not_stall():
    job = run(tasks.square, range(100_000), backend="threads", workers=2)
    assert job.wait(120)
    assert job.summary.counts["ok"] == 100_000


def test_lazy_input_keeps_a_bounded_window():
    """A million lazy items run with a bounded read-ahead, on processes."""
    consumed = 0
    max_ahead = 0
    read = itertools.count()

    def items():
        nonlocal max_ahead
        for i in range(1_000_000):
            max_ahead = max(max_ahead, next(read) - consumed)
            yield i

    job = run(abs, items(), backend="processes", workers=2)
    for _ in job:
        consumed += 1
    assert consumed == 1_000_000
    assert job.summary.counts["ok"] == 1_000_000
    # A few chunks per worker, at most: not the whole input.  The window, the
    # chunk being read, and one delivered batch (a chunk per worker) that the
    # engine counts as taken while this loop is still going through it.
    from poolside.engine import chunking, intake
    bound = chunking.MAX_ITEMS * (2 * intake._WINDOW_CHUNKS_PER_WORKER + 1 + 2)
    assert max_ahead <= bound, (max_ahead, bound)


def test_input_error_runs_what_was_read_then_raises():
    def items():
        yield from range(5)
        raise OSError("the disk went away")

    job = run(tasks.square, items(), backend="threads", workers=2)
    seen = []
    with pytest.raises(InputError, match="the disk went away"):
        for o in job:
            seen.append(o.item)
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert "the disk went away" in job.summary.input_error


def test_breaking_out_of_the_loop_cancels_the_rest():
    job = run(tasks.sleep_for, [0.01] * 200, backend="threads", workers=2, chunk_size=1)
    for _ in job:
        break
    assert job.wait(60)
    s = job.summary
    assert s.counts["cancelled"] > 0 and s.total == 200


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backend": "gpu"}, "unknown backend 'gpu'"),
        ({"workers": 0}, "workers must be"),
        ({"timeout": -1}, "timeout must be"),
        ({"chunk_size": "big"}, "chunk_size must be"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(tasks.square, range(3), **{"backend": "threads", **kwargs})


def test_not_iterable_and_not_callable():
    with pytest.raises(TypeError, match="items must be iterable"):
        run(tasks.square, 42, backend="threads")
    with pytest.raises(TypeError, match="task must be callable"):
        run(42, range(3), backend="threads")


def test_unpicklable_task_is_refused_before_anything_runs():
    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        run(lambda x: x, range(3), backend="processes", workers=1)


def test_unpicklable_item_and_result_fail_alone():
    items = [1, tasks.Unpicklable(), 3, 2, 4]
    job = run(tasks.unpicklable_result, items, backend="processes", workers=2, chunk_size=5)
    got = {o.index: o for o in job}
    assert_one_outcome_each(got.values(), 5)
    assert got[1].status == "failed" and "cannot be sent to a worker process" in got[1].error.message
    assert got[3].status == "failed" and "cannot be sent back" in got[3].error.message
    assert [got[i].value for i in (0, 2, 4)] == [1, 3, 4]


def test_system_facts():
    info = system_info()
    assert info.logical_cores >= info.physical_cores >= 1
    assert 1 <= info.usable_cores <= info.logical_cores
    assert info.cpu_model
    assert default_workers("sequential") == 1
    assert default_workers("processes", "cpu") == info.usable_cores
    assert default_workers("threads", "io") >= default_workers("threads", "cpu")
    assert backend_names()[:3] == ["sequential", "threads", "processes"]
    infos = {i.name: i for i in backend_info()}
    assert infos["processes"].kills_hung_items and not infos["threads"].kills_hung_items
    assert all(i.description for i in infos.values())


def test_context_manager_cancels_and_joins():
    with run(tasks.sleep_for, [0.05] * 100, backend="processes", workers=2, chunk_size=1) as job:
        pids = job.backend.pids()
        next(iter(job))
    assert job.done
    assert job.summary.total == 100
    assert job.summary.counts["cancelled"] > 0
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)


def test_summary_is_a_consistent_live_snapshot():
    seen = collections.Counter()
    job = run(tasks.square, range(2000), backend="threads", workers=2, chunk_size=10)
    for o in job:
        seen[o.status.value] += 1
        assert job.summary.total >= sum(seen.values())
    assert job.summary.counts["ok"] == seen["ok"] == 2000


def test_cancel_from_another_thread():
    job = run(tasks.sleep_for, [0.02] * 500, backend="threads", workers=2, chunk_size=1)
    it = iter(job)
    next(it)
    threading.Thread(target=job.cancel).start()
    rest = list(it)
    assert job.done
    s = job.summary
    assert s.total == 500 and s.counts["cancelled"] > 0
    assert 1 + len(rest) == 500


@pytest.mark.parametrize("finite, expected", [(True, 300), (False, None), (None, None)])
def test_cancel_draws_the_rest_of_a_finite_generator(finite, expected):
    job = run(tasks.sleep_for, (0.001 for _ in range(300)), backend="threads", workers=2,
              chunk_size=1, finite=finite)
    it = iter(job)
    next(it)
    job.cancel()
    total = 1 + sum(1 for _ in it)
    assert job.summary.total == total
    if expected is not None:
        assert total == expected
    else:
        assert total < 300  # an iterator that may not end is not drawn further
