"""Outcomes name the process and thread that ran them (the trace and the monitors need it)."""

from __future__ import annotations

import os
import threading

import pytest

from poolside import Outcome, Status, run
from tests import engine_tasks as tasks


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes", "thread-executor", "mp-pool"])
def test_every_outcome_has_all_fields_and_names_its_pid_and_thread(backend):
    outcomes = list(run(tasks.fail_on_seven, range(40), backend=backend, workers=2, chunk_size=4))
    assert len(outcomes) == 40
    for o in outcomes:
        assert len(o) == len(Outcome._fields)  # built with every field, none missing
        assert isinstance(o.pid, int) and o.pid > 0
        assert isinstance(o.tid, int) and o.tid > 0
    in_process = backend in ("sequential", "threads", "thread-executor")
    pids = {o.pid for o in outcomes}
    if in_process:
        assert pids == {os.getpid()}
        assert threading.get_native_id() not in {o.tid for o in outcomes}  # never the caller's thread
    else:
        assert os.getpid() not in pids


def test_a_timed_out_item_names_the_process_that_hung_and_items_never_run_name_none():
    job = run(tasks.hang_on_5, range(8), backend="processes", workers=1, chunk_size=1, timeout=0.5)
    outcomes = {o.item: o for o in job}
    hung = outcomes[5]
    assert hung.status is Status.TIMED_OUT
    assert isinstance(hung.pid, int) and hung.pid != os.getpid()
    assert all(isinstance(o.pid, int) for o in outcomes.values() if o.status is Status.OK)


def test_cancelled_items_that_never_ran_have_no_pid():
    job = run(tasks.square, range(100_000), backend="threads", workers=1, finite=True)
    job.cancel()
    outcomes = list(job)
    assert len(outcomes) == 100_000
    never_ran = [o for o in outcomes if o.status is Status.CANCELLED]
    assert never_ran and all(o.pid is None and o.tid is None and len(o) == len(Outcome._fields)
                             for o in never_ran)
