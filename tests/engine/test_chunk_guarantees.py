"""Items run in big chunks keep every guarantee: one outcome per item, the culprit named, timeouts acting,
exact item times, order, and batches as columns."""

from __future__ import annotations

import types

import psutil
import pytest

from poolside import Outcome, Status, run
from tests import engine_tasks as tasks


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_crash_inside_a_big_chunk_without_timeout_names_its_culprit():
    # No timeout: the worker keeps its slot only roughly; the culprit must still be found.
    job = run(tasks.exit_on_50, range(300), backend="processes", workers=2, chunk_size=200)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(300))  # exactly one outcome each
    failed = [o for o in outcomes if not o.ok]
    assert [(o.item, o.error.type) for o in failed] == [(50, "WorkerDied")]
    culprit = failed[0]
    assert culprit.pid is not None and _gone(culprit.pid)  # the process it killed
    assert culprit.started_s is not None and culprit.worker is not None
    assert all(o.value == o.item for o in outcomes if o.ok)
    assert job.summary.counts == {"ok": 299, "failed": 1, "timed_out": 0, "cancelled": 0}


def test_a_timeout_inside_a_big_chunk_acts_on_the_exact_item():
    job = run(tasks.hang_on_5, range(60), backend="processes", workers=2, chunk_size=30, timeout=0.5)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(60))
    timed_out = [o for o in outcomes if o.status is Status.TIMED_OUT]
    assert [o.item for o in timed_out] == [5]
    assert timed_out[0].elapsed_s >= 0.5
    assert job.summary.counts["ok"] == 59


def test_thread_items_keep_exact_times_without_a_timeout():
    outcomes = sorted(run(tasks.sleep_for, [0.002] * 20, backend="threads", workers=1, chunk_size=20),
                      key=lambda o: o.started_s)
    assert all(o.elapsed_s >= 0.002 for o in outcomes)
    # One thread: each item starts when (or just after) the one before it ended, never inside it.
    for a, b in zip(outcomes, outcomes[1:]):
        assert b.started_s >= a.started_s + a.elapsed_s - 1e-9


def test_iteration_yields_one_full_outcome_per_item_with_failures_in_place():
    job = run(tasks.fail_on_seven, range(5000), backend="processes", workers=2, chunk_size=1000)
    outcomes = list(job)
    assert all(type(o) is Outcome for o in outcomes)
    assert sorted(o.index for o in outcomes) == list(range(5000))
    by_index = {o.index: o for o in outcomes}
    assert by_index[7].status is Status.FAILED and by_index[7].error.type == "ValueError"
    assert by_index[7].value is None and by_index[7].item == 7
    ok = [o for o in outcomes if o.index != 7]
    assert all(o.status is Status.OK and o.value == o.item * o.item and o.error is None for o in ok)
    assert all(o.worker in (0, 1) and o.pid and o.started_s is not None and o.elapsed_s >= 0 for o in outcomes)
    assert job.summary.counts == {"ok": 4999, "failed": 1, "timed_out": 0, "cancelled": 0}


def test_on_outcomes_receives_lists_of_outcomes():
    batches = []
    job = run(tasks.square, range(5000), backend="processes", workers=2, on_outcomes=batches.append)
    assert job.wait(60)
    assert all(type(b) is list and all(type(o) is Outcome for o in b) for b in batches)
    assert sorted(o.index for b in batches for o in b) == list(range(5000))


def test_ordered_iteration_of_tiny_items_is_in_input_order():
    outcomes = list(run(tasks.square, range(20_000), backend="processes", workers=2, ordered=True))
    assert [o.index for o in outcomes] == list(range(20_000))


def test_the_loop_without_a_timeout_keeps_every_item_time_exact_and_back_to_back(monkeypatch):
    # The stretch loop (no timeout) writes the slot once per stretch, never per
    # item: item times must still be each item's own, every item starting when
    # the one before it ended, and a raising item must keep its place.  The worker
    # reads a clock that only the items' own work moves, so each time is exact.
    from poolside.backends import _worker
    from poolside.backends.protocol import Chunk

    now = [0.0]

    def nap_or_fail_on_seven(item: tuple[int, float]) -> float:
        """``(index, seconds)``: work that lasts ``seconds`` on the worker's clock; item 7 raises."""
        index, seconds = item
        if index == 7:
            raise ValueError("item 7 is unlucky")
        now[0] += seconds
        return seconds

    monkeypatch.setattr(_worker, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    sent = []
    box = _worker.Outbox(sent.append, 0, [0.0] * _worker.SLOT_WIDTH, 0)
    items = [(i, 0.02 if i == 300 else 0.0) for i in range(601)]  # one slow item among fast ones
    _worker.run_chunk(nap_or_fail_on_seven, Chunk(1, items), box, 0.0, lambda: 0.0, flush_s=0.005, exact=False)
    assert len(sent) >= 2 and sent[-1].last and sum(len(d.values) for d in sent) == len(items)
    assert [d.offset for d in sent] == [sum(len(d.values) for d in sent[:k]) for k in range(len(sent))]
    elapsed = [e for d in sent for e in d.elapsed]
    assert elapsed[300] == pytest.approx(0.02) and all(e == 0.0 for i, e in enumerate(elapsed) if i != 300)
    starts = [s for d in sent for s in d.starts]
    assert starts[301] - starts[300] == pytest.approx(0.02)  # the next item starts when the slow one ended
    for d in sent:
        assert d.busy_s is not None and abs(d.busy_s - sum(d.elapsed)) < 1e-9
        for k in range(1, len(d.values)):  # back to back inside a batch: no time lost, none shared
            assert abs(d.starts[k] - (d.starts[k - 1] + d.elapsed[k - 1])) < 1e-12
    assert [(d.offset + i, e.type) for d in sent for i, e in (d.errors or [])] == [(7, "ValueError")]
    assert [v for d in sent for v in d.values][6:9] == [0.0, None, 0.0]


def _columns_match(batch) -> None:
    outcomes = list(batch)
    assert len(batch) == len(outcomes)
    assert list(batch.indices) == [o.index for o in outcomes]
    assert list(batch.items) == [o.item for o in outcomes]
    assert list(batch.statuses) == [o.status for o in outcomes]
    assert list(batch.values) == [o.value for o in outcomes]
    assert list(batch.elapsed) == [o.elapsed_s for o in outcomes]
    assert list(batch.starts) == [o.started_s for o in outcomes]
    assert list(batch.workers) == [o.worker for o in outcomes]
    assert (batch.errors or {}) == {i: o.error for i, o in enumerate(outcomes) if o.error is not None}
    for status in Status:
        assert batch.count(status) == sum(1 for o in outcomes if o.status is status)


def test_batches_give_every_outcome_as_columns_without_building_them():
    job = run(tasks.fail_on_seven, range(5000), backend="processes", workers=2)
    seen = []
    for batch in job.batches():
        _columns_match(batch)
        seen += batch.indices
    assert sorted(seen) == list(range(5000))
    assert job.summary.counts == {"ok": 4999, "failed": 1, "timed_out": 0, "cancelled": 0}


def test_batches_carry_timeouts_and_the_ordered_mode_as_the_same_columns():
    job = run(tasks.hang_on_5, range(12), backend="processes", workers=2, timeout=0.5, ordered=True)
    batches = list(job.batches())
    for batch in batches:
        _columns_match(batch)
    statuses = [s for b in batches for s in b.statuses]
    assert [i for b in batches for i in b.indices] == list(range(12))  # ordered
    assert statuses.count(Status.TIMED_OUT) == 1 and statuses.count(Status.OK) == 11


def test_a_job_is_taken_once_either_way():
    import pytest

    job = run(tasks.square, range(10), backend="threads", workers=2)
    assert sum(len(b) for b in job.batches()) == 10
    with pytest.raises(RuntimeError):
        iter(job)


def test_the_tail_of_an_input_of_unknown_length_is_shared_and_every_item_still_ends_once():
    # A generator: once it ends, what was read ahead is split into smaller chunks
    # (put back in front of the reader and taken again): order, indices and
    # exactly-once must hold through it, ordered or not.
    for ordered in (False, True):
        job = run(tasks.square, (i for i in range(6000)), backend="processes", workers=2, ordered=ordered)
        outcomes = list(job)
        indices = [o.index for o in outcomes]
        assert sorted(indices) == list(range(6000))
        assert all(o.item == o.index and o.value == o.index * o.index for o in outcomes)
        if ordered:
            assert indices == list(range(6000))
        sizes = sorted(job._insights.chunks.elements())
        assert sum(sizes) == 6000
