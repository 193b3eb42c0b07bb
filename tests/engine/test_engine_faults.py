"""Crashes, hangs and cancels: one bad item costs one item, never the run."""

from __future__ import annotations

import os
import threading
import time

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poolside import Status, run
from tests import ROOT
from tests import engine_tasks as tasks


def descendants() -> set[int]:
    """Our live child processes, not counting multiprocessing's long-lived helpers."""
    from poolside.backends.workers import helper_pids

    me = psutil.Process()
    helpers = set(helper_pids())
    pids = set()
    for child in me.children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        # The forkserver, the resource tracker and the zygote live as long as this
        # process, by design; the workers they fork are what must not outlive a run.
        if "forkserver" in cmdline or "resource_tracker" in cmdline or child.pid in helpers:
            continue
        pids.add(child.pid)
    return pids


@pytest.fixture
def no_orphans():
    """Every process a run leaves is a parked worker, and those end on request."""
    from poolside.backends.workers import parked_pids, stop_idle_workers

    before = descendants()
    yield
    left = descendants() - before
    assert left <= set(parked_pids()), "a worker process outlived its run unaccounted"
    stop_idle_workers()
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in left), "a parked worker did not end"


def test_worker_exit_costs_one_item(no_orphans):
    outcomes = list(run(tasks.exit_on_50, range(100), backend="processes", workers=2))
    assert sorted(o.index for o in outcomes) == list(range(100))
    failed = [o for o in outcomes if not o.ok]
    assert [o.item for o in failed] == [50]
    assert failed[0].error.type == "WorkerDied"
    assert failed[0].error.message == "worker process died (exit code 3)"
    assert all(o.value == o.item for o in outcomes if o.ok)


def test_segfault_is_named(no_orphans):
    outcomes = list(run(tasks.segfault_on_3, range(10), backend="processes", workers=2))
    failed = [o for o in outcomes if not o.ok]
    assert [o.item for o in failed] == [3]
    assert "exit code -11, SIGSEGV" in failed[0].error.message
    assert sum(o.ok for o in outcomes) == 9


def test_death_mid_chunk_blames_only_the_culprit(no_orphans):
    # One chunk holds every item; the worker dies on item 50 of it.
    outcomes = list(run(tasks.exit_on_50, range(100), backend="processes", workers=1, chunk_size=100))
    bad = [o.item for o in outcomes if not o.ok]
    assert bad == [50]
    assert len(outcomes) == 100


def test_hung_process_is_killed_and_replaced(no_orphans):
    job = run(tasks.hang_on_5, range(30), backend="processes", workers=2, timeout=0.5, chunk_size=4)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(30))
    timed_out = [o for o in outcomes if o.status is Status.TIMED_OUT]
    assert [o.item for o in timed_out] == [5]
    assert timed_out[0].error.type == "Timeout"
    assert "worker process was killed" in timed_out[0].error.message
    assert timed_out[0].elapsed_s >= 0.5
    assert job.summary.counts == {"ok": 29, "failed": 0, "timed_out": 1, "cancelled": 0}


def test_thread_timeout_is_reported_at_its_deadline_and_the_run_goes_on(tmp_path):
    release = tmp_path / "release"
    items = [0.0, 0.0, str(release), 0.0, 0.0]

    def task(item):
        return tasks.wait_for_file(item) if isinstance(item, str) else tasks.sleep_for(item)

    job = run(task, items, backend="threads", workers=2, timeout=0.3, chunk_size=1)
    outcomes = list(job)  # finishes although the item is still hanging
    release.touch()       # now let the abandoned thread end
    by_index = {o.index: o for o in outcomes}
    assert by_index[2].status == "timed_out"
    assert "cannot be stopped" in by_index[2].error.message
    assert all(by_index[i].ok for i in (0, 1, 3, 4))


def test_finished_items_stream_out_of_an_unfinished_chunk(tmp_path):
    """A slow item must not hold back items of its chunk that finished before it."""
    release = tmp_path / "release"
    items = [0.0] * 5 + [str(release)] + [0.0] * 5

    def task(item):
        return tasks.wait_for_file(item) if isinstance(item, str) else tasks.sleep_for(item)

    job = run(task, items, backend="threads", workers=1, chunk_size=len(items))
    early = []
    for o in job:
        early.append(o.index)
        if len(early) == 5:
            release.touch()  # the five before it arrived while it still waited
        if o.index == 5:
            assert o.value is True, "the slow item waited for nothing: results did not stream"
    assert sorted(early) == list(range(len(items)))


def test_cancel_kills_running_workers_promptly(no_orphans):
    job = run(tasks.sleep_for, [30.0] * 4 + [0.0] * 100, backend="processes", workers=2, chunk_size=1)
    pids = job.backend.pids()
    assert len(pids) == 2
    job.cancel()
    assert job.wait(30)
    s = job.summary
    assert s.total == 104
    assert s.counts["cancelled"] >= 4  # the four 30 s items never finished
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_cancel_of_a_listed_input_accounts_for_every_item():
    items = list(range(50_000))
    job = run(tasks.sleep_for, [0.001] * len(items), backend="threads", workers=2, chunk_size=1)
    it = iter(job)
    next(it)
    job.cancel()
    rest = list(it)
    assert 1 + len(rest) == len(items)
    assert job.summary.total == len(items)


SPECS = st.lists(
    st.tuples(st.sampled_from(["ok", "ok", "ok", "raise"]), st.integers(0, 1000)),
    min_size=0, max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=SPECS, chunk=st.sampled_from([1, 3, "auto"]), ordered=st.booleans(),
       backend=st.sampled_from(["sequential", "threads"]), cancel_after=st.integers(-1, 30))
def test_accounting_invariant_threads(specs, chunk, ordered, backend, cancel_after):
    check_accounting(specs, chunk, ordered, backend, cancel_after)


FAULTY_SPECS = st.lists(
    st.tuples(st.sampled_from(["ok"] * 6 + ["raise", "exit", "segv"]), st.integers(0, 1000)),
    min_size=0, max_size=25,
).filter(lambda specs: sum(k in ("exit", "segv") for k, _ in specs) <= 3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=FAULTY_SPECS, chunk=st.sampled_from([1, 4, "auto"]), ordered=st.booleans(),
       cancel_after=st.integers(-1, 20))
def test_accounting_invariant_processes_under_random_faults(specs, chunk, ordered, cancel_after):
    check_accounting(specs, chunk, ordered, "processes", cancel_after)


def check_accounting(specs, chunk, ordered, backend, cancel_after):
    job = run(tasks.behave, specs, backend=backend, workers=2, chunk_size=chunk, ordered=ordered)
    outcomes = []
    for o in job:
        outcomes.append(o)
        if len(outcomes) == cancel_after:
            job.cancel()
    assert sorted(o.index for o in outcomes) == list(range(len(specs)))
    if ordered:
        assert [o.index for o in outcomes] == list(range(len(specs)))
    counts = job.summary.counts
    assert sum(counts.values()) == len(specs)
    for o in outcomes:
        kind, value = specs[o.index]
        assert o.item == specs[o.index]
        if o.status == "cancelled":
            assert 0 <= cancel_after <= len(specs)
            continue
        if kind == "ok":
            assert o.status == "ok" and o.value == value
        elif kind == "raise":
            assert o.status == "failed" and o.error.type == "RuntimeError"
        else:
            assert o.status == "failed" and o.error.type == "WorkerDied", o
            expected = "SIGSEGV" if kind == "segv" else f"exit code {value % 100 + 1})"
            assert expected in o.error.message


def test_pid_is_a_real_worker_process():
    pids = {o.value for o in run(tasks.pid_of_worker, range(20), backend="processes", workers=2)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def _unguarded_script(tmp_path, method: str | None) -> list[str]:
    """Run a script that starts a run without a __main__ guard; its RESULT line."""
    import subprocess
    import sys
    import textwrap

    options = f"backend_options={{'method': {method!r}}}" if method else ""
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from poolside import run
        from tests.engine_tasks import square
        job = run(square, range(16), backend="processes", workers=2, {options})
        outcomes = list(job)
        print("RESULT", job.summary.counts["failed"],
              sorted({{o.error.type if o.error else "ok" for o in outcomes}}))
    """))
    root = str(ROOT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": root})
    return [line for line in done.stdout.splitlines() if line.startswith("RESULT")] or [done.stderr]


def test_workers_that_cannot_start_fail_the_run_with_the_reason(tmp_path):
    """Forkserver workers re-import an unguarded script and die as they start: a clear error."""
    assert _unguarded_script(tmp_path, "forkserver") == ["RESULT 16 ['WorkerStartError']"]


def test_zygote_workers_need_no_main_guard(tmp_path):
    """Workers forked by the zygote never re-import the script, as fork children do not."""
    from poolside.backends import _zygote

    if not _zygote.supported():
        pytest.skip("the zygote needs Linux")
    assert _unguarded_script(tmp_path, None) == ["RESULT 0 ['ok']"]


def test_a_finished_run_parks_its_workers_and_the_next_run_adopts_them(no_orphans):
    from poolside.backends.workers import parked_pids

    first = {o.value for o in run(tasks.pid_of_worker, range(40), backend="processes", workers=2, chunk_size=1)}
    assert set(parked_pids()) >= first  # parked, alive, waiting
    second = {o.value for o in run(tasks.pid_of_worker, range(40), backend="processes", workers=2, chunk_size=1)}
    assert second == first  # the same processes ran the next run: no start-up


def test_a_cancelled_run_never_parks_its_workers(no_orphans):
    from poolside.backends.workers import parked_pids, stop_idle_workers

    stop_idle_workers()
    job = run(tasks.sleep_for, [30.0] * 4, backend="processes", workers=2, chunk_size=1)
    pids = job.backend.pids()
    job.cancel()
    assert job.wait(30)
    assert not set(pids) & set(parked_pids())


def test_a_parked_worker_takes_the_new_runs_task():
    list(run(tasks.square, range(10), backend="processes", workers=2))
    outcomes = list(run(tasks.fail_on_seven, range(10), backend="processes", workers=2))
    assert {o.item for o in outcomes if not o.ok} == {7}
    assert all(o.value == o.item * o.item for o in outcomes if o.ok)


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes",
                                     "thread-executor", "process-executor", "mp-pool"])
def test_an_exception_whose_str_raises_fails_its_item_only(backend):
    job = run(tasks.raise_unprintable_on_3, range(8), backend=backend, workers=2, chunk_size=4)
    assert job.wait(60), "the run never finished"
    assert job.summary.counts == {"ok": 6, "failed": 2, "timed_out": 0, "cancelled": 0}
    outcomes = {o.item: o for o in run(tasks.raise_unprintable_on_3, range(8), backend=backend,
                                       workers=2, chunk_size=4)}
    unprintable, unshowable = outcomes[3].error, outcomes[5].error
    assert unprintable.type == "UnprintableError"
    assert "UnprintableError('hidden')" in unprintable.message
    assert "str() raised RuntimeError" in unprintable.message
    assert unshowable.type == "UnshowableError"
    assert "repr() raised RuntimeError too" in unshowable.message
    assert "raise_unprintable_on_3" in unprintable.traceback


class Gate:
    """An input that yields some items, then blocks until the test opens it.

    The wait is bounded only as a hang guard: ``expired`` says it ran out,
    which means the test waited on the input instead of going on without it.
    """

    GUARD_S = 10.0

    def __init__(self) -> None:
        self._open = threading.Event()
        self.expired = False

    def input(self, first, then=()):
        yield from first
        if not self._open.wait(self.GUARD_S):
            self.expired = True
        yield from then

    def open(self) -> None:
        self._open.set()


class SizedGate(Gate):
    """A blocking input with a length (a lazy listing that knows its size)."""

    def __init__(self, first, total):
        super().__init__()
        self.first, self.total = first, total

    def __len__(self):
        return self.total

    def __iter__(self):
        return self.input(self.first, range(len(self.first), self.total))


@pytest.mark.parametrize(("backend", "chunk"), [("threads", 1), ("processes", 1), ("threads", 5)])
def test_results_stream_while_the_input_is_blocked(backend, chunk):
    # chunk 5: the three items are read into a batch that never fills
    gate = Gate()
    job = run(tasks.square, gate.input([1, 2, 3], then=[4]), backend=backend, workers=2, chunk_size=chunk)
    it = iter(job)
    first = sorted(next(it).value for _ in range(3))
    assert not gate.expired, "results waited for the input"
    assert first == [1, 4, 9]
    gate.open()
    assert [o.value for o in it] == [16]
    assert job.summary.not_read == 0


def test_a_timeout_fires_while_the_input_is_blocked(tmp_path):
    release = tmp_path / "release"

    def task(item):
        return tasks.wait_for_file(item) if isinstance(item, str) else tasks.sleep_for(item)

    gate = Gate()
    job = run(task, gate.input([str(release), 0.0]), backend="threads", workers=2, timeout=0.3, chunk_size=1)
    it = iter(job)
    statuses = sorted(str(next(it).status) for _ in range(2))
    assert not gate.expired, "the timeout waited for the input"
    assert statuses == ["ok", "timed_out"]
    gate.open()
    release.touch()
    assert list(it) == []


@pytest.mark.parametrize("finite", [False, True])
def test_cancel_does_not_wait_for_a_blocked_input(finite):
    gate = Gate()
    job = run(tasks.square, gate.input([1, 2, 3], then=[4, 5]), backend="threads", workers=2,
              chunk_size=1, finite=finite)
    it = iter(job)
    assert sorted(next(it).value for _ in range(3)) == [1, 4, 9]
    job.cancel()
    assert list(it) == []
    assert not gate.expired, "the cancel waited for the input"
    summary = job.summary
    assert summary.counts["ok"] == 3 and summary.total == 3
    assert summary.not_read is None  # a generator cannot say how many it still holds
    assert "the rest of the input was not read" in summary.line()
    gate.open()


def test_cancel_counts_what_a_blocked_input_of_known_length_did_not_read():
    gate = SizedGate([0, 1, 2], total=10)
    job = run(tasks.square, gate, backend="threads", workers=2, chunk_size=1)
    it = iter(job)
    assert sorted(next(it).value for _ in range(3)) == [0, 1, 4]
    job.cancel()
    assert list(it) == []
    assert not gate.expired
    assert job.summary.total == 3 and job.summary.not_read == 7
    assert "7 items not read" in job.summary.line()
    gate.open()


def _pid_from(path, limit_s: float = 30.0) -> int:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.01)  # ok: a bounded poll for a file another process writes
    pytest.fail(f"{path} was never written")


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(("stop", "task", "backend"), [
    ("timeout", tasks.spawn_and_hang, "processes"), ("cancel", tasks.spawn_and_hang, "processes"),
    ("timeout", tasks.spawn_daemon_and_hang, "processes"), ("timeout", tasks.spawn_and_hang, "process-per-item"),
])
def test_a_killed_worker_takes_the_processes_its_task_started(tmp_path, stop, task, backend, no_orphans):
    pid_file = tmp_path / "child.pid"
    job = run(task, [str(pid_file)], backend=backend, workers=1,
              timeout=0.5 if stop == "timeout" else None)
    child = _pid_from(pid_file)
    assert _alive(child)
    if stop == "cancel":
        job.cancel()
    outcomes = list(job)
    assert [str(o.status) for o in outcomes] == ["timed_out" if stop == "timeout" else "cancelled"]
    assert not _alive(child), "the task's child process outlived its killed worker"


def test_a_task_child_does_not_hold_the_callers_pipes(tmp_path):
    """The caller reads our output to its end: a task's orphaned child must not keep it open."""
    import subprocess
    import sys
    import textwrap

    pid_file = tmp_path / "child.pid"
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        from poolside import run
        from tests.engine_tasks import spawn_and_hang
        if __name__ == "__main__":
            job = run(spawn_and_hang, [{str(pid_file)!r}], backend="processes", workers=1, timeout=0.5)
            print([str(o.status) for o in job])
    """))
    root = str(ROOT)
    caller = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=root, env={**os.environ, "PYTHONPATH": root})
    caller.wait(120)  # a hang guard: the script ends by itself once its item times out
    child = _pid_from(pid_file)
    assert not _alive(child), "the task's child outlived the run, holding the caller's pipes"
    out, err = caller.communicate()  # EOF at once: nobody else holds the pipes
    assert out.strip() == "['timed_out']", err


@pytest.mark.parametrize("cancel", [True, False])
def test_pids_after_the_run_are_none(cancel, no_orphans):
    job = run(tasks.sleep_for, [30.0 if cancel else 0.0] * 2, backend="processes", workers=2, chunk_size=1)
    assert len(job.backend.pids()) == 2
    if cancel:
        job.cancel()
    assert job.wait(60)
    assert job.backend.pids() == []  # the run's workers are gone (or parked: no longer this run's)


def test_a_memory_error_says_the_task_ran_out_of_memory():
    outcomes = {o.item: o for o in run(tasks.out_of_memory, range(3), backend="threads", workers=2)}
    error = outcomes[1].error
    assert outcomes[1].status == "failed" and error.type == "MemoryError"
    assert error.message.startswith("the task ran out of memory")
    assert outcomes[0].ok and outcomes[2].ok


def test_a_memory_error_names_the_limit_the_process_runs_under(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "limited.py"
    script.write_text(textwrap.dedent("""
        import resource
        from poolside import run
        from tests.engine_tasks import out_of_memory
        if __name__ == "__main__":
            with open("/proc/self/statm") as f:
                used = int(f.read().split()[0]) * resource.getpagesize()
            limit = used + (512 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
            outcome = [o for o in run(out_of_memory, [1], backend="sequential")][0]
            print(f"{limit / 2**20:,.0f}")
            print(outcome.error.message)
    """))
    root = str(ROOT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": root})
    limit_mib, message = done.stdout.splitlines()
    assert message == (f"the task ran out of memory: the process is limited to {limit_mib} MiB "
                       "of address space (RLIMIT_AS)"), done.stderr


@pytest.mark.parametrize("backend", ["processes", "process-per-item"])
def test_an_item_that_fails_to_pickle_unprintably_fails_alone(backend):
    items = [1, tasks.UnprintablyUnpicklable(), 3]
    outcomes = sorted(run(tasks.identity, items, backend=backend, workers=2), key=lambda o: o.index)
    assert [str(o.status) for o in outcomes] == ["ok", "failed", "ok"]
    assert outcomes[1].error.type == "PicklingError"
    assert "str() raised RuntimeError" in outcomes[1].error.message
