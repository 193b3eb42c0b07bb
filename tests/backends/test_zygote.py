"""The zygote: workers forked from a one-thread copy of the caller, with every guarantee kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import psutil
import pytest

from poolside import Status, run
from poolside.backends import _zygote
from poolside.backends.workers import default_method, helper_pids, prestart, stop_idle_workers
from tests import ROOT
from tests import engine_tasks as tasks

ZYGOTE = {"method": "zygote"}

pytestmark = pytest.mark.skipif(not _zygote.supported(), reason="the zygote needs Linux")


@pytest.fixture
def zygote() -> int:
    """The zygote's pid; skip where this test process already runs threads and has none."""
    if not prestart():
        pytest.skip("this test process runs threads and has no zygote: the forkserver is used")
    pid = _zygote.pid()
    assert pid is not None and pid != os.getpid()
    yield pid
    stop_idle_workers()


def _parent(pid: int) -> int | None:
    try:
        return psutil.Process(pid).ppid()
    except psutil.NoSuchProcess:
        return None


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_workers_are_forked_by_this_one_thread_process_or_by_the_zygote(zygote):
    job = run(tasks.pid_of_worker, range(20), backend="processes", workers=2, backend_options=ZYGOTE)
    pids = {o.value for o in job}
    assert pids and os.getpid() not in pids
    # The first workers are forked directly when this process runs one thread
    # at start(), else by the zygote; never by a threaded process.
    assert {_parent(pid) for pid in pids} <= {os.getpid(), zygote}
    assert helper_pids() == [zygote]


def _replacements_at(job, first: set[int], status: Status) -> tuple[list, dict[int, int | None]]:
    """Iterate ``job``; when the outcome with ``status`` arrives, the parents of the workers
    started since ``first`` (the replacement is started before the culprit's outcome is sent)."""
    outcomes, parents = [], {}
    for outcome in job:
        outcomes.append(outcome)
        if outcome.status is status:
            parents = {pid: _parent(pid) for pid in set(job.backend.pids()) - first}
    return outcomes, parents


def test_a_crashed_worker_is_replaced_by_the_zygote_and_the_culprit_named(zygote):
    job = run(tasks.exit_on_50, range(100), backend="processes", workers=2, chunk_size=10,
              backend_options=ZYGOTE)
    first = set(job.backend.pids())
    outcomes, replacements = _replacements_at(job, first, Status.FAILED)
    assert sorted(o.index for o in outcomes) == list(range(100))  # exactly one outcome each
    failed = [o for o in outcomes if not o.ok]
    assert [(o.item, o.error.type) for o in failed] == [(50, "WorkerDied")]
    assert _gone(failed[0].pid)
    # Forked while the dispatcher ran: by the zygote, never by this (threaded) process.
    assert replacements and set(replacements.values()) == {zygote}


def test_a_hung_item_times_out_and_its_worker_is_replaced_by_the_zygote(zygote):
    job = run(tasks.hang_on_5, range(20), backend="processes", workers=2, timeout=0.5, chunk_size=4,
              backend_options=ZYGOTE)
    first = set(job.backend.pids())
    outcomes, replacements = _replacements_at(job, first, Status.TIMED_OUT)
    assert job.summary.counts == {"ok": 19, "failed": 0, "timed_out": 1, "cancelled": 0}
    hung = next(o for o in outcomes if o.status is Status.TIMED_OUT)
    assert hung.item == 5 and _gone(hung.pid)
    assert replacements and set(replacements.values()) == {zygote}


def test_cancel_leaves_no_worker_of_the_zygote(zygote):
    job = run(tasks.sleep_for, [30.0] * 4 + [0.0] * 20, backend="processes", workers=2, chunk_size=1,
              backend_options=ZYGOTE)
    pids = job.backend.pids()
    assert len(pids) == 2
    job.cancel()
    assert job.wait(30)
    assert job.summary.total == 24 and job.summary.counts["cancelled"] >= 4
    assert all(_gone(pid) for pid in pids)
    assert [p.pid for p in psutil.Process(zygote).children() if not _gone(p.pid)] == []


def test_the_zygote_is_never_forked_while_threads_run():
    server = _zygote._Zygote()  # a fresh one: the module's may be running already
    release = threading.Event()
    thread = threading.Thread(target=release.wait, args=(30,))
    thread.start()
    try:
        assert _zygote.threads_running() >= 2
        with pytest.raises(_zygote.ZygoteUnavailable):
            server.ensure_running()
        assert server.pid is None
    finally:
        release.set()
        thread.join()


def _script(body: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, done.stdout + done.stderr
    return lines[0].split()[1:]


def test_a_caller_that_runs_threads_uses_the_forkserver():
    method, zygote, parent_is_me = _script("""
        import os, threading, psutil
        from poolside import run
        from poolside.backends import _zygote
        from poolside.backends.workers import default_method
        from tests.engine_tasks import pid_of_worker
        release = threading.Event()
        thread = threading.Thread(target=release.wait, args=(30,))
        thread.start()
        method = default_method()
        pids = {o.value for o in run(pid_of_worker, range(8), backend="processes", workers=2)}
        parents = {psutil.Process(p).ppid() for p in pids if psutil.pid_exists(p)}
        print("RESULT", method, _zygote.pid(), os.getpid() in parents)
        release.set()
        thread.join()
    """)
    assert (method, zygote, parent_is_me) == ("forkserver", "None", "False")


def test_default_method_is_the_zygote_once_it_runs(zygote):
    assert default_method() == "zygote"


def test_workers_forked_directly_end_on_their_own_pipe():
    """Stopped by closing their task pipes, the first workers (forked directly) end by themselves:
    no sibling, and not the zygote, holds a copy of another worker's pipe."""
    codes = _script("""
        from poolside import run
        from poolside.backends import _launch, workers
        from tests.engine_tasks import square
        codes = []
        close = _launch._Proc.close
        def closing(proc):
            codes.append(proc.process.exitcode)
            close(proc)
        _launch._Proc.close = closing
        list(run(square, range(50), backend="processes", workers=3))
        workers.stop_idle_workers()
        print("RESULT", len(codes), *codes)
    """)
    assert codes == ["3", "0", "0", "0"]  # exit code 0: they saw the end of the pipe (not killed)


def test_the_zygote_and_the_workers_end_when_their_caller_dies():
    pids = _script("""
        import os
        from poolside import run
        from poolside.backends.workers import helper_pids, prestart
        from tests.engine_tasks import pid_of_worker
        assert prestart()
        workers = {o.value for o in run(pid_of_worker, range(20), backend="processes", workers=2)}
        print("RESULT", *helper_pids(), *sorted(workers), flush=True)
        os._exit(0)  # no clean-up at all: the zygote and the parked workers must notice on their own
    """)
    assert len(pids) == 3
    for pid in map(int, pids):
        try:
            psutil.Process(pid).wait(timeout=30)
        except psutil.NoSuchProcess:
            pass
        assert _gone(pid)


def test_released_workers_and_zygote_end_without_being_waited_for():
    """release_workers() (the CLI, after its one run) returns at once; the zygote ends even though
    the workers forked directly from the caller are alive: they hold no copy of its "alive" pipe."""
    pids = _script("""
        import os, time
        from poolside import run
        from poolside.backends import workers
        from tests.engine_tasks import pid_of_worker
        assert workers.prestart()
        zygote = workers.helper_pids()[0]
        pids = sorted({o.value for o in run(pid_of_worker, range(20), backend="processes", workers=2)})
        assert sorted(workers.parked_pids()) == pids
        workers.release_workers()
        assert workers.parked_pids() == [] and workers.helper_pids() == []
        os.waitpid(zygote, 0)  # it ends by itself: nobody else holds its alive pipe
        print("RESULT", *pids, flush=True)
    """)
    assert len(pids) == 2
    for pid in map(int, pids):  # reaped at the script's exit
        assert _gone(pid)
