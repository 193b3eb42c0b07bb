"""The contract every backend keeps, each way a classic pool can be called.

Every item ends in exactly one outcome, of every kind; ordered runs stream in
input order; unordered ones as the library delivers; cancel ends the rest
``cancelled`` and leaves no process behind; and each backend does, on a
crash, what the README's table says it does.  Items are few and tiny so that
twenty configurations stay fast.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time

import psutil
import pytest

from poolside import Status, backend_info, backend_names, default_workers, run
from poolside.backends import get_backend
from tests import engine_tasks as tasks
from tests.waits import WAIT_S

HAS_DASK = importlib.util.find_spec("distributed") is not None

# (backend, method): every backend, and every method of the classic pools.
CONFIGS = [
    ("sequential", None), ("threads", None), ("processes", None),
    ("thread-per-item", None), ("process-per-item", None), ("asyncio", None),
    ("joblib", None), ("joblib", "generator"), ("joblib", "list"),
    *[(b, m) for b in ("mp-pool", "mp-thread-pool") for m in ("submit", "map", "imap", "imap_unordered")],
    *[(b, m) for b in ("process-executor", "thread-executor") for m in ("submit", "map")],
]
# A local Dask cluster takes 2-3 s to start: it runs the first contract only
# (and is skipped where distributed is not installed).
DASK = [pytest.param(("dask", None), marks=pytest.mark.skipif(not HAS_DASK, reason="needs poolside[dask]"))]


def processes() -> set[int]:
    """Every live process below this one, workers forked from a forkserver included."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return found


def leftovers(before: set[int]) -> list[list[str]]:
    """Processes started since ``before`` that are still alive, but for the long-lived helpers.

    The forkserver and the resource trackers live as long as this process by
    design (they are direct children); Poolside's parked workers end on
    request.  Anything else outlived its run.
    """
    from poolside.backends.workers import parked_pids

    me = os.getpid()
    left = []
    for pid in processes() - before - set(parked_pids()):
        try:
            process = psutil.Process(pid)
            cmdline = " ".join(process.cmdline())
            if process.ppid() == me and ("forkserver" in cmdline or "resource_tracker" in cmdline):
                continue
            left.append(process.cmdline())
        except psutil.NoSuchProcess:
            pass
    return left


def _id(config: tuple[str, str | None]) -> str:
    backend, method = config
    return backend if method is None else f"{backend}:{method}"


def _run(config, task, items, **kwargs):
    backend, method = config
    return run(task, items, backend=backend, method=method, **kwargs)


# Configurations whose library hands results over in input order, however they finish.
IN_INPUT_ORDER = {("sequential", None), ("joblib", "generator"), ("joblib", "list"),
                  ("mp-pool", "map"), ("mp-pool", "imap"), ("mp-thread-pool", "map"),
                  ("mp-thread-pool", "imap"), ("process-executor", "map"), ("thread-executor", "map")}


def test_every_backend_is_registered_with_a_kind_and_a_line_on_when_it_wins():
    infos = {i.name: i for i in backend_info()}
    assert set(infos) == set(backend_names())
    assert {b for b, _ in CONFIGS} | {"dask"} == set(backend_names())
    for name in backend_names():
        cls = get_backend(name)
        assert cls.kind in ("threads", "processes", "async", "cluster")
        assert cls.wins and cls.description
        if infos[name].available:
            assert infos[name].kind == cls.kind and infos[name].wins == cls.wins


def test_default_workers_follow_the_kind_not_the_name():
    cores = default_workers("processes", "cpu")
    assert default_workers("mp-thread-pool", "io") == default_workers("threads", "io")
    assert default_workers("thread-per-item", "mixed") == default_workers("threads", "mixed")
    assert default_workers("joblib", "cpu") == default_workers("process-per-item", "cpu") == cores
    assert default_workers("asyncio", "io") > default_workers("threads", "io")
    assert default_workers("sequential", "io") == 1


@pytest.mark.parametrize("config", CONFIGS + DASK, ids=_id)
def test_every_item_once_ok_or_failed_in_input_order(config):
    job = _run(config, tasks.fail_on_seven, range(30), workers=2, ordered=True)
    outcomes = list(job)
    assert [o.index for o in outcomes] == list(range(30))
    for o in outcomes:
        if o.item == 7:
            assert o.status is Status.FAILED and o.error.type == "ValueError"
            assert "fail_on_seven" in o.error.traceback  # the worker's own traceback
        else:
            assert o.status is Status.OK and o.value == o.item * o.item and o.error is None
        assert o.worker in (0, 1) and o.started_s is not None and o.elapsed_s >= 0
        assert isinstance(o.pid, int) and o.pid > 0 and isinstance(o.tid, int)
    assert job.summary.counts == {"ok": 29, "failed": 1, "timed_out": 0, "cancelled": 0}


@pytest.mark.parametrize("config", [c for c in CONFIGS if c not in IN_INPUT_ORDER], ids=_id)
def test_unordered_streams_in_completion_order(config, tmp_path):
    # The first item waits until every other outcome is out: it must come last.
    release = tmp_path / "go"
    items = [str(release)] + list(range(1, 9))
    outcomes = []

    def arrived(batch):
        outcomes.extend(batch)
        if len(outcomes) == 8:
            release.touch()

    job = _run(config, tasks.wait_or_pass, items, workers=2, chunk_size=1, on_outcomes=arrived)
    assert job.wait(60)
    release.touch()
    assert sorted(o.index for o in outcomes) == list(range(9))
    assert outcomes[-1].index == 0 and outcomes[-1].ok


@pytest.mark.parametrize("config", sorted(IN_INPUT_ORDER - {("sequential", None)}), ids=_id)
def test_libraries_that_yield_in_input_order_hold_the_rest_back(config):
    items = [0.2] + [0.0] * 8
    outcomes = list(_run(config, tasks.sleep_for, items, workers=2, chunk_size=1))
    assert [o.index for o in outcomes] == list(range(len(items)))


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_cancel_ends_the_rest_cancelled_and_leaves_no_process(config, tmp_path):
    release = tmp_path / "go"
    before = processes()
    job = _run(config, tasks.wait_for_file, [str(release)] * 12, workers=2, chunk_size=1)
    job.cancel()
    outcomes = list(job)
    release.touch()  # threads that cannot be stopped finish their wait now
    assert sorted(o.index for o in outcomes) == list(range(12))
    assert job.summary.counts["cancelled"] >= 10  # at most the two running may have finished
    assert not leftovers(before)


@pytest.mark.parametrize("config", [c for c in CONFIGS if c[0] not in ("thread-per-item", "mp-thread-pool",
                                                                         "thread-executor", "joblib")],
                         ids=_id)
def test_a_timeout_is_kept_or_refused(config, tmp_path):
    backend, _ = config
    if backend in ("sequential", "threads", "processes", "process-per-item", "asyncio"):
        release = tmp_path / "go"
        job = _run(config, tasks.wait_or_pass, [0, str(release), 2], workers=2, chunk_size=1,
                   timeout=0.3)
        got = {o.index: o.status for o in job}
        release.touch()  # a thread that cannot be stopped ends its wait now
        assert got == {0: Status.OK, 1: Status.TIMED_OUT, 2: Status.OK}
    else:
        with pytest.raises(ValueError, match="no per-item timeout"):
            _run(config, tasks.square, range(3), timeout=1)


def _lost(outcomes):
    return sorted(o.index for o in outcomes if not o.ok)


# What a worker that dies at item 20 (of 40, batches of 5) costs, per backend:
# the README's crash column.
CRASH = {
    ("processes", None): lambda lost, _: lost == [20],
    ("process-per-item", None): lambda lost, _: lost == [20],
    ("mp-pool", "submit"): lambda lost, _: lost == list(range(20, 25)),
    ("mp-pool", "imap_unordered"): lambda lost, _: lost == list(range(20, 25)),
    ("mp-pool", "imap"): lambda lost, _: lost == list(range(20, 40)),
    ("mp-pool", "map"): lambda lost, _: lost == list(range(40)),
    ("process-executor", "submit"): lambda lost, errors: 20 in lost and errors == {"BrokenProcessPool"},
    ("process-executor", "map"): lambda lost, errors: 20 in lost and errors == {"BrokenProcessPool"},
    ("joblib", None): lambda lost, errors: 20 in lost and errors == {"TerminatedWorkerError"},
}


@pytest.mark.parametrize("config", list(CRASH), ids=_id)
def test_a_dead_worker_costs_what_the_library_loses(config):
    before = processes()
    outcomes = list(_run(config, tasks.exit_on_20, range(40), workers=2, chunk_size=5))
    assert sorted(o.index for o in outcomes) == list(range(40))
    lost = _lost(outcomes)
    errors = {o.error.type for o in outcomes if not o.ok}
    assert CRASH[config](lost, errors), (lost, errors)
    assert all(o.value == o.item for o in outcomes if o.ok)
    if config[0] == "mp-pool":
        # Pool itself would wait forever: Poolside says so instead.
        assert errors == {"WorkerDied"}
        assert all("would have waited" in o.error.message for o in outcomes if not o.ok)
    assert not leftovers(before)


@pytest.mark.parametrize("backend", ["threads", "processes", "mp-pool", "joblib", "thread-per-item"])
def test_an_async_def_task_runs_on_any_backend(backend):
    outcomes = list(run(tasks.async_fail_on_seven, range(12), backend=backend, workers=2))
    assert {o.item: o.value for o in outcomes if o.ok} == {i: i * i for i in range(12) if i != 7}
    assert [o.error.type for o in outcomes if not o.ok] == ["ValueError"]


def test_asyncio_keeps_many_waits_in_flight_on_one_thread():
    # Each item waits for company: until 21 items have started.  Only a loop that keeps many
    # waits in flight at once gets there; run one at a time, the first item waits alone until
    # the shared deadline (a safety net, never reached otherwise) and the next ones give up.
    started: list[int] = []
    deadline: list[float] = []

    async def wait_for_company(item: int) -> int:
        if not deadline:
            deadline.append(time.monotonic() + WAIT_S)
        started.append(item)
        while len(started) < 21 and time.monotonic() < deadline[0]:
            await asyncio.sleep(0.005)
        return len(started)

    job = run(wait_for_company, range(40), backend="asyncio", workers=40)
    outcomes = list(job)
    assert job.summary.counts["ok"] == 40
    assert len({o.tid for o in outcomes}) == 1  # one event loop thread ran them all
    assert len({o.worker for o in outcomes}) > 20  # ... with many of them waiting at once
    assert all(o.value >= 21 for o in outcomes)  # none gave up waiting


def test_asyncio_runs_a_plain_function_on_exactly_workers_threads():
    outcomes = list(run(tasks.sleep_for, [0.01] * 30, backend="asyncio", workers=3, chunk_size=1))
    assert len(outcomes) == 30
    assert 1 < len({o.tid for o in outcomes}) <= 3
    assert os.getpid() == outcomes[0].pid


@pytest.mark.parametrize("kwargs, message", [
    ({"backend": "threads", "method": "map"}, "has no method option"),
    ({"backend": "process-executor", "method": "imap"}, "has no method 'imap'"),
    ({"backend": "mp-pool", "method": "map", "backend_options": {"method": "imap"}}, "disagree"),
])
def test_a_bad_method_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(tasks.square, range(3), **kwargs)


@pytest.mark.parametrize("method, one_batch", [("map", True), ("imap_unordered", False)])
def test_map_holds_every_result_back_until_the_last(method, one_batch):
    # Pool.map delivers every result at once, at the end; imap_unordered as they finish.
    batches = []
    job = run(tasks.sleep_for, [0.2] + [0.0] * 40, backend="mp-thread-pool", method=method,
              workers=2, chunk_size=1, on_outcomes=batches.append)
    assert job.wait(60)
    assert sum(len(b) for b in batches) == 41 and job.summary.counts["ok"] == 41
    assert (len(batches) == 1) is one_batch


def test_the_cli_takes_a_method(capsys):
    from poolside.cli import main

    assert main(["run", "resources/samples", "-r", "-p", "sha256", "-b", "mp-thread-pool",
                 "--method", "imap_unordered", "-q"]) == 0
    assert "on mp-thread-pool" in capsys.readouterr().err
    assert main(["run", "resources/samples", "-r", "-p", "sha256", "-b", "threads", "--method", "map"]) == 2
    assert "has no method option" in capsys.readouterr().err
