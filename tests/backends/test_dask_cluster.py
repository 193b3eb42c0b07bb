"""The dask backend against a cluster started as a user starts one: `dask scheduler` and two `dask worker`s.

A worker that dies costs its chunks a retry, never the run; an item that kills
every worker that runs it is named, and only it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from poolside import run
from tests import ROOT
from tests import engine_tasks as tasks

pytest.importorskip("distributed")

WORKERS = 2


def _wait_for(condition, what: str, limit_s: float = 120.0):
    """Poll ``condition`` (bounded) until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # ok: polling another process's state, bounded
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` + two ``dask worker`` (nanny and worker process each) on 127.0.0.1, random ports.

    The scheduler gives up on a task at the first worker that dies under it
    (allowed-failures 0, default 3): every death then reaches the backend as
    a KilledWorker, fewer worker restarts keep the test short, and the tasks
    a killed worker only held queued meet KilledWorker too, which the backend
    must not blame on their items.  Workers run one task at a time.  Yields the scheduler's address and the nanny
    processes; at the end every process the cluster started is gone.
    """
    scheduler_file = tmp_path_factory.mktemp("dask") / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT),  # the workers import tests.engine_tasks
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    env.pop("POOLSIDE_DASK_ADDRESS", None)
    cli = [sys.executable, "-m"]
    started: list[subprocess.Popen] = []
    try:
        started.append(subprocess.Popen(
            [*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        address = _wait_for(lambda: _address(scheduler_file), "the scheduler's address")
        for _ in range(WORKERS):
            started.append(subprocess.Popen(
                [*cli, "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                 "--nthreads", "1", "--no-dashboard"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, started[1:]
    finally:
        # SIGKILL, nannies first so that none starts a worker again: a graceful
        # stop waits on timeouts (10 s here) and this cluster holds nothing.
        tree = []
        for p in started:
            try:
                process = psutil.Process(p.pid)
                tree += [process, *process.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        for process in tree:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(tree, timeout=30)
        for p in started:
            p.wait()
        assert not alive, f"cluster processes outlived the test: {alive}"


def _address(scheduler_file: Path) -> str | None:
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or half written


def _worker_processes(nannies: list[subprocess.Popen]) -> list[psutil.Process]:
    """The worker process under each nanny (a nanny restarts its worker when it dies)."""
    found = []
    for nanny in nannies:
        for child in psutil.Process(nanny.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.NoSuchProcess:
                pass
    return found


def _ready(address: str) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(WORKERS, timeout=120)


@pytest.mark.slow  # a real cluster: ~3 s to start, ~1 s per worker restart
def test_a_worker_killed_mid_run_costs_a_retry_never_the_run(cluster, monkeypatch):
    address, nannies = cluster
    _ready(address)
    monkeypatch.setenv("POOLSIDE_DASK_ADDRESS", address)
    items = [0.02] * 80
    job = run(tasks.sleep_for, items, backend="dask", chunk_size=4)
    assert job.backend.workers == WORKERS
    outcomes = []
    for o in job:
        outcomes.append(o)
        if len(outcomes) == 8:
            victims = _wait_for(lambda: _worker_processes(nannies), "a worker process")
            victims[0].kill()  # mid-run: both workers hold chunks now
    assert sorted(o.index for o in outcomes) == list(range(len(items))), "every item exactly once"
    assert job.summary.counts == {"ok": len(items), "failed": 0, "timed_out": 0, "cancelled": 0}


@pytest.mark.slow
def test_an_item_that_kills_its_worker_is_named_and_only_it(cluster, monkeypatch):
    address, _nannies = cluster
    _ready(address)
    monkeypatch.setenv("POOLSIDE_DASK_ADDRESS", address)
    job = run(tasks.exit_on_50, range(60), backend="dask", chunk_size=5)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(60)), "every item exactly once"
    failed = [o for o in outcomes if not o.ok]
    assert [o.item for o in failed] == [50]
    assert failed[0].error.type == "KilledWorker"
    assert "died" in failed[0].error.message
    assert all(o.value == o.item for o in outcomes if o.ok)


def test_a_lost_future_hands_its_chunk_back():
    """A chunk whose result died with its worker after it ran is run again, not failed."""
    from poolside.backends.dask import DaskBackend
    from poolside.backends.protocol import Chunk, Retry

    class LostFuture:
        status = "lost"
        released = False

        def release(self):
            self.released = True

    backend = DaskBackend(tasks.square, 2, timeout=None, origin=time.perf_counter())
    backend._killed_worker = type("KilledWorker", (Exception,), {})
    future = LostFuture()
    assert backend._outcome(future, Chunk(7, [1, 2, 3])) == Retry(7, alone=False)
    assert future.released, "the scheduler would compute it again for nobody"


@pytest.mark.slow  # its own scheduler, killed mid-run: ~4 s
def test_the_scheduler_going_away_cancels_what_is_not_done(tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m"]
    scheduler = subprocess.Popen([*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        address = _wait_for(lambda: _address(scheduler_file), "the scheduler's address")
        worker = subprocess.Popen([*cli, "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                                   "--nthreads", "1", "--no-dashboard", "--no-nanny"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with _client(address) as client:
            client.wait_for_workers(1, timeout=120)
        items = [0.05] * 100
        job = run(tasks.sleep_for, items, backend="dask", chunk_size=1, finite=True,
                  backend_options={"address": address})
        outcomes = []
        for o in job:
            outcomes.append(o)
            if len(outcomes) == 3:
                scheduler.kill()
        assert sorted(o.index for o in outcomes) == list(range(len(items))), "every item exactly once"
        cancelled = [o for o in outcomes if o.status == "cancelled"]
        failed = [o.error for o in outcomes if o.status == "failed"]
        assert cancelled and not failed, failed
        assert "went away" in cancelled[-1].error.message
    finally:
        for p in (scheduler, worker):
            if p is not None:
                p.kill()
                p.wait()


def _client(address: str):
    from distributed import Client

    return Client(address, timeout="30s")
