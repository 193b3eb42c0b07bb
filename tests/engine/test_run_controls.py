"""Run controls on the real engine: pause, resume and stop after the current items, on every backend.

Items are sequenced by the items themselves: a *gate* (``tests.engine_tasks.gated``)
says through a FIFO that it has started and waits until the test releases it, so the
test knows what runs when it pauses or stops, with no sleep anywhere.
"""

from __future__ import annotations

import importlib.util
import os
import select
import time

import pytest

from poolside import Status, run
from poolside.records import STOPPED_ERROR
from tests import engine_tasks as tasks
from tests.backends.test_contract import leftovers, processes
from tests.waits import WAIT_S

# Backends that give back the chunks queued behind the running ones (Backend.hold):
# on them a pause starts nothing at all.  The others run what they were handed.
HOLDING = ["sequential", "threads", "processes"]
HAS_DASK = importlib.util.find_spec("distributed") is not None
OTHERS = [
    "thread-per-item", "process-per-item", "asyncio",
    "mp-pool", "mp-thread-pool", "process-executor", "thread-executor",
    pytest.param("dask", marks=[pytest.mark.slow,
                                pytest.mark.skipif(not HAS_DASK, reason="needs poolside[dask]")]),
]
# The ways of calling a library that take the whole input as the engine reads it.
METHODS = [("mp-pool", "imap_unordered"), ("mp-pool", "map"), ("thread-executor", "map"),
           ("joblib", None), ("joblib", "list")]


class Gate:
    """One gated item: its FIFOs, and the test's end of them."""

    def __init__(self, folder, name: str) -> None:
        self.path = str(folder / name)
        os.mkfifo(self.path + ".started")
        os.mkfifo(self.path + ".go")
        # Listening before the run starts: the item's open for writing never waits.
        self._started = os.open(self.path + ".started", os.O_RDONLY | os.O_NONBLOCK)

    def wait_started(self) -> None:
        ready, _, _ = select.select([self._started], [], [], WAIT_S)
        assert ready, f"{self.path} never started"
        os.close(self._started)

    def release(self) -> None:
        os.close(os.open(self.path + ".go", os.O_WRONLY | os.O_NONBLOCK))


def gates(tmp_path, n: int) -> list[Gate]:
    return [Gate(tmp_path, f"gate{i}") for i in range(n)]


def start(backend: str, items: list, workers: int, method: str | None = None):
    return run(tasks.gated, items, backend=backend, workers=workers, chunk_size=1, method=method)


def check_pause(tmp_path, backend: str, workers: int, method: str | None = None) -> tuple[int, int]:
    """Pause while every worker runs a gate, release them, resume: (items started while paused, total)."""
    open_gates = gates(tmp_path, workers)
    rest = list(range(40))
    before = processes()
    job = start(backend, [g.path for g in open_gates] + rest, workers, method)
    for gate in open_gates:
        gate.wait_started()
    job.pause()
    assert job.paused
    assert job.wait_held(WAIT_S)
    for gate in open_gates:
        gate.release()
    outcomes = []
    stream = iter(job)
    names = {g.path for g in open_gates}
    while names - {o.item for o in outcomes}:
        outcomes.append(next(stream))  # the running gates finish while paused
    resumed_at = _since(job)
    assert job.paused
    job.resume()
    assert not job.paused
    outcomes += list(stream)
    assert sorted(o.index for o in outcomes) == list(range(workers + len(rest)))
    assert all(o.status is Status.OK for o in outcomes)
    assert [o.value for o in sorted(outcomes, key=lambda o: o.index)] == [g.path for g in open_gates] + rest
    summary = job.summary
    assert summary.counts["ok"] == workers + len(rest) and summary.paused_s > 0
    assert not leftovers(before)
    during = sum(1 for o in outcomes if o.item not in names and o.started_s < resumed_at)
    return during, len(rest)


def _since(job) -> float:
    """Now, on the clock of the job's outcomes' ``started_s``."""
    return time.perf_counter() - job.started


@pytest.mark.parametrize("backend", HOLDING)
def test_pause_starts_nothing_until_resumed(tmp_path, backend):
    workers = 1 if backend == "sequential" else 2
    during, _ = check_pause(tmp_path, backend, workers)
    assert during == 0, "an item started while the run was paused"


@pytest.mark.parametrize("backend", OTHERS)
def test_pause_holds_what_was_not_handed_over(tmp_path, backend):
    during, total = check_pause(tmp_path, backend, 2)
    assert during < total // 2, "the pause held nothing back"


@pytest.mark.parametrize(("backend", "method"), METHODS)
def test_pause_on_library_methods(tmp_path, backend, method):
    check_pause(tmp_path, backend, 2, method)  # the library ran what it had; the rest waited


def check_stop(tmp_path, backend: str, workers: int, method: str | None = None, pause_first: bool = False):
    open_gates = gates(tmp_path, workers)
    rest = list(range(40))
    before = processes()
    job = start(backend, [g.path for g in open_gates] + rest, workers, method)
    for gate in open_gates:
        gate.wait_started()
    if pause_first:
        job.pause()
    job.stop_after_current()
    assert job.stopping and not job.cancelled
    assert job.wait_held(WAIT_S)
    for gate in open_gates:
        gate.release()
    outcomes = list(job)
    assert job.wait(WAIT_S) and job.done
    assert sorted(o.index for o in outcomes) == list(range(workers + len(rest)))
    by_item = {o.item: o for o in outcomes}
    for gate in open_gates:  # what ran was not thrown away
        assert by_item[gate.path].status is Status.OK and by_item[gate.path].value == gate.path
    stopped = [o for o in outcomes if o.status is Status.CANCELLED]
    assert all(o.error == STOPPED_ERROR and o.started_s is None for o in stopped)
    assert all(o.status in (Status.OK, Status.CANCELLED) for o in outcomes)
    counts = job.summary.counts
    assert counts["ok"] + counts["cancelled"] == job.summary.total == workers + len(rest)
    assert counts["ok"] == len(outcomes) - len(stopped)
    assert not job.paused
    assert not leftovers(before), "a process outlived the stopped run"
    return len(stopped)


@pytest.mark.parametrize("backend", HOLDING)
@pytest.mark.parametrize("pause_first", [False, True])
def test_stop_after_current_keeps_running_items(tmp_path, backend, pause_first):
    workers = 1 if backend == "sequential" else 2
    assert check_stop(tmp_path, backend, workers, pause_first=pause_first) == 40


@pytest.mark.parametrize("backend", OTHERS)
def test_stop_after_current_on_every_backend(tmp_path, backend):
    assert check_stop(tmp_path, backend, 2) > 0, "the stop held nothing back"


@pytest.mark.parametrize(("backend", "method"), METHODS)
def test_stop_after_current_on_library_methods(tmp_path, backend, method):
    check_stop(tmp_path, backend, 2, method)  # ``map`` may run all it was fed: the counts still add up


def test_cancel_after_stop_still_cancels(tmp_path):
    (gate,) = gates(tmp_path, 1)
    job = start("processes", [gate.path, 1, 2], 1)
    gate.wait_started()
    job.stop_after_current()
    job.cancel()
    outcomes = list(job)  # the gate is never released: the cancel kills its worker
    assert job.cancelled
    assert {o.status for o in outcomes} == {Status.CANCELLED}
    assert len(outcomes) == 3


def test_controls_after_the_end_do_nothing():
    job = run(tasks.square, range(5), backend="threads", workers=2)
    assert [o.ok for o in job].count(True) == 5
    job.wait(WAIT_S)
    job.pause()
    job.stop_after_current()
    job.resume()
    assert not job.paused and job.wait_held(0)
    assert job.summary.counts["ok"] == 5 and job.summary.paused_s == 0
