"""The dispatcher always finishes: whatever the consumer, the insights or ``on_finish`` raise,
``wait()`` returns, every item has one outcome and the counts add up."""

from __future__ import annotations

import pytest

import poolside
from poolside.engine import insights as insights_module
from tests.engine_tasks import square
from tests.waits import WAIT_S

BACKENDS = ["sequential", "threads", "processes"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_consumer_that_raises_fails_the_run_and_wait_returns(backend):
    calls = []

    def full_disk(batch):
        calls.append(len(batch))
        raise OSError(28, "No space left on device")

    job = poolside.run(square, range(200), backend=backend, workers=2, chunk_size=10, on_outcomes=full_disk)
    assert job.wait(WAIT_S), "the dispatcher died: wait() never returns"
    summary = job.summary
    assert summary.done and summary.total == 200, summary.counts
    assert summary.counts["failed"] > 0  # the items the consumer was not given: the run failed
    assert summary.counts["ok"] + summary.counts["failed"] == 200
    assert job.error is not None and "No space left on device" in job.error
    assert sum(calls) == 200, "the consumer is still given every outcome, the failed ones too"


def test_a_consumer_that_never_raises_leaves_no_error():
    seen = []
    job = poolside.run(square, range(50), backend="threads", workers=2, on_outcomes=seen.extend)
    assert job.wait(WAIT_S)
    assert job.error is None and len(seen) == 50 and job.summary.counts["ok"] == 50


@pytest.mark.parametrize("backend", ["sequential", "processes"])
def test_insights_that_raise_cost_the_run_its_insights_only(backend, monkeypatch):
    def broken(self, wall_s, items):
        raise RuntimeError("insights broke")

    monkeypatch.setattr(insights_module.InsightsRecorder, "finish", broken)
    job = poolside.run(square, range(30), backend=backend, workers=1)
    assert job.wait(WAIT_S)
    summary = job.summary
    assert summary.done and summary.counts["ok"] == 30 and summary.insights is None


def test_an_on_finish_that_raises_still_ends_the_job():
    def broken(summary):
        raise RuntimeError("on_finish broke")

    seen = []
    job = poolside.run(square, range(20), backend="threads", workers=2, on_outcomes=seen.extend,
                       on_finish=broken)
    assert job.wait(WAIT_S)
    assert job.done and len(seen) == 20 and job.error is None


def test_an_iterated_job_ends_though_the_insights_raise(monkeypatch):
    def broken(self, wall_s, items):
        raise RuntimeError("insights broke")

    monkeypatch.setattr(insights_module.InsightsRecorder, "finish", broken)
    job = poolside.run(square, range(30), backend="threads", workers=2)
    assert sorted(o.value for o in job) == sorted(x * x for x in range(30))
    assert job.wait(WAIT_S)
