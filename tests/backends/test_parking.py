"""Thread workers outlive a run that ends normally: the next run adopts them; a cancelled run parks none."""

from __future__ import annotations

import threading

from poolside import run
from poolside.backends.threads import idle_thread_ids, stop_idle_threads, wait_idle_threads
from tests import engine_tasks as tasks


def _tid(_: int) -> int:
    return threading.get_native_id()


def test_a_finished_threads_run_parks_its_threads_and_the_next_run_adopts_them():
    stop_idle_threads()
    first = {o.value for o in run(_tid, range(30), backend="threads", workers=3, chunk_size=1)}
    assert wait_idle_threads(len(first), timeout=30)
    parked = idle_thread_ids()
    assert first <= parked  # the run's threads wait for the next run
    second = list(run(tasks.square, range(30), backend="threads", workers=3, chunk_size=1))
    assert sorted(o.value for o in second) == [x * x for x in range(30)]  # the new run's task
    assert {o.tid for o in second} <= parked  # on parked threads, none started anew
    assert wait_idle_threads(len(first), timeout=30)
    stop_idle_threads()
    # This run's threads are gone (a thread of an earlier test's run may park meanwhile: the pool is global).
    assert not (idle_thread_ids() & parked)
    assert not any(t.native_id in parked and t.is_alive() for t in threading.enumerate())


def test_a_cancelled_threads_run_parks_none(tmp_path):
    stop_idle_threads()
    release = tmp_path / "release"
    job = run(tasks.wait_for_file, [str(release)] * 4, backend="threads", workers=2, chunk_size=1)
    job.cancel()
    assert job.wait(30)
    release.touch()  # the abandoned calls return now; their threads must end, not park
    for worker in job.backend._workers:
        worker.thread.join(30)
        assert not worker.thread.is_alive()  # ended, not parked (a parked thread lives on)
    assert not ({w.thread.native_id for w in job.backend._workers} & idle_thread_ids())
    assert job.summary.counts["cancelled"] == 4
