"""The dask backend against workers that cannot see the client's files or plugin, as on other machines.

``.ci/run`` starts the cluster: a ``dask scheduler`` and two ``dask worker``s
on 127.0.0.1, the workers in a mount namespace with an empty tmpfs over the
folder that holds this test's files and plugin (``POOLSIDE_TEST_DASK_HIDDEN``).
The files are shipped, the plugin travels as its source, the outputs come
back; a worker killed mid-run costs at most its items; nothing is left in the
workers' scratch folders.  Run outside ``.ci/run``, the test is skipped saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from poolside import run
from poolside.spec import JobSpec

pytest.importorskip("distributed")

PLUGIN = '''
import hashlib, time
from pathlib import Path
from typing import Annotated, Literal
from poolside.plugins.base import Output, plugin
from poolside.plugins._files import AtomicOutput


@plugin(bound="cpu")
def mirror(path: Path, out: Annotated[Path, Output] = Path("mirrored"), nap: float = 0.0,
           on_collision: Literal["rename", "skip", "overwrite"] = "rename") -> dict:
    """Write each file reversed into out; its hash and the output's path."""
    time.sleep(nap)
    data = path.read_bytes()
    output = AtomicOutput(out, path.name + ".rev", on_collision)
    with output as f:
        f.write(data[::-1])
    return {"sha256": hashlib.sha256(data).hexdigest(), "output": str(output.path), "name": path.name}
'''
FILES = 24


def _cluster() -> tuple[str, Path, Path]:
    skip = os.environ.get("POOLSIDE_TEST_DASK_SKIP")
    if skip:
        pytest.skip(skip)
    scheduler_file = os.environ.get("POOLSIDE_TEST_DASK_SCHEDULER_FILE")
    if not scheduler_file:
        pytest.skip("no Dask cluster that cannot see this test's files: run it through .ci/run, "
                    "which starts one (a scheduler and two workers in a mount namespace)")
    deadline = time.monotonic() + 60
    while True:  # the cluster starts while ruff and mypy run; it is usually long ready
        try:
            address = json.loads(Path(scheduler_file).read_text())["address"]
            break
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                pytest.fail(f"the Dask scheduler of .ci/run wrote no address to {scheduler_file}")
            time.sleep(0.1)  # ok: polling another process's file, bounded
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    return address, Path(os.environ["POOLSIDE_TEST_DASK_HIDDEN"]), Path(os.environ["POOLSIDE_TEST_DASK_SCRATCH"])


@pytest.fixture
def job_files(request):
    """The plugin and its input files in the folder the workers cannot see; removed after."""
    address, hidden, scratch = _cluster()
    folder = hidden / request.node.name
    (folder / "in").mkdir(parents=True)
    (folder / "mirror.py").write_text(PLUGIN)
    for i in range(FILES):
        (folder / "in" / f"f{i:02d}.bin").write_bytes(os.urandom(500 + 97 * i))
    yield address, folder, scratch
    shutil.rmtree(folder)


def _spec(folder: Path, out: str, **params) -> JobSpec:
    return JobSpec(f"{folder / 'mirror.py'}:mirror", paths=(str(folder / "in"),), recursive=True,
                   params={"out": str(folder / out), **params})


def _left_in(scratch: Path) -> list[str]:
    return [str(p) for p in scratch.rglob("poolside-*")]


def test_shipped_files_and_plugin_run_and_the_outputs_come_back(job_files):
    address, folder, scratch = job_files
    local = _spec(folder, "local").prepare()
    expected = {o.value["name"]: o.value["sha256"] for o in run(local.task, local.items, backend="sequential")}

    remote = _spec(folder, "remote").prepare()
    job = run(remote.task, remote.items, backend="dask", chunk_size=3,
              backend_options={"address": address, "files": "shipped"})
    outcomes = list(job)
    assert job.summary.counts["ok"] == FILES, [o.error for o in outcomes if not o.ok]
    assert {o.value["name"]: o.value["sha256"] for o in outcomes} == expected
    for o in outcomes:  # the value names the client's input and output, not the worker's temp paths
        assert Path(o.value["output"]).parent == folder / "remote"
        assert Path(o.value["output"]).read_bytes() == (folder / "local" / Path(o.value["output"]).name).read_bytes()
    assert sorted(os.listdir(folder / "remote")) == sorted(os.listdir(folder / "local"))
    assert _left_in(scratch) == []

    again = run(remote.task, _spec(folder, "remote").prepare().items, backend="dask", chunk_size=3,
                backend_options={"address": address, "files": "shipped"})
    renamed = sorted(Path(o.value["output"]).name for o in again)
    assert renamed == sorted(f"f{i:02d}-1.bin.rev" for i in range(FILES)), "the plugin's collision policy applies"


def test_shared_storage_the_workers_cannot_read_stops_at_the_first_chunk(job_files):
    address, folder, _scratch = job_files
    prepared = _spec(folder, "out").prepare()
    outcomes = list(run(prepared.task, prepared.items, backend="dask",
                        backend_options={"address": address, "files": "shared"}, finite=True))
    assert len(outcomes) == FILES and not any(o.ok for o in outcomes)
    assert "cannot read the input files" in outcomes[0].error.message
    assert "--files shipped" in outcomes[0].error.message


def test_a_worker_killed_mid_run_costs_at_most_its_items(job_files):
    address, folder, scratch = job_files
    from distributed import Client

    with Client(address, timeout="30s") as client:
        pids = client.run(os.getpid)
    prepared = _spec(folder, "out", nap=0.05).prepare()
    job = run(prepared.task, prepared.items, backend="dask", chunk_size=2,
              backend_options={"address": address, "files": "shipped"})
    outcomes = []
    for o in job:
        outcomes.append(o)
        if len(outcomes) == 4:
            os.kill(next(iter(pids.values())), signal.SIGKILL)  # mid-run: both workers hold chunks
    assert sorted(o.index for o in outcomes) == list(range(FILES)), "every item exactly once"
    lost = [o for o in outcomes if not o.ok]
    assert len(lost) <= 2 * 2, f"more than the killed worker's chunks: {[o.error for o in lost]}"
    for o in outcomes:
        if o.ok:
            assert o.value["sha256"] == hashlib.sha256(Path(o.item).read_bytes()).hexdigest()
    with Client(address, timeout="30s") as client:  # the nanny brought the killed worker back
        client.wait_for_workers(2, timeout=60)
    # Dask purges a dead worker's scratch folder as its replacement starts; the run swept the others.
    assert _left_in(scratch) == []


def test_a_package_missing_on_the_workers_fails_its_items_naming_it_and_the_worker(job_files):
    address, folder, _scratch = job_files
    # Installed here (a file the client imports), absent on the workers (it sits in the hidden folder).
    (folder / "only_here.py").write_text("VALUE = 1\n")
    (folder / "needs.py").write_text(
        "from pathlib import Path\n"
        "def needs(path: Path) -> int:\n"
        "    import only_here\n"
        "    return only_here.VALUE\n")
    import sys

    sys.path.insert(0, str(folder))
    try:
        spec = JobSpec(f"{folder / 'needs.py'}:needs", paths=(str(folder / "in"),), recursive=True)
        prepared = spec.prepare()
        assert {o.value for o in run(prepared.task, prepared.items, backend="sequential")} == {1}
        prepared = spec.prepare()
        outcomes = list(run(prepared.task, prepared.items, backend="dask",
                            backend_options={"address": address, "files": "shipped"}))
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("only_here", None)
    assert len(outcomes) == FILES and not any(o.ok for o in outcomes)
    message = outcomes[0].error.message
    assert "'only_here' is not installed on the Dask worker tcp://127.0.0.1:" in message, message
    assert "pip install only_here" in message


def test_cancel_frees_the_clusters_tasks(job_files):
    address, folder, scratch = job_files
    from distributed import Client

    prepared = _spec(folder, "out", nap=1.0).prepare()
    job = run(prepared.task, prepared.items, backend="dask", chunk_size=1, finite=True,
              backend_options={"address": address, "files": "shipped"})
    with Client(address, timeout="30s") as client:
        _until(lambda: client.processing() and any(client.processing().values()), "tasks on the workers")
        job.cancel()
        assert job.wait(60)
        assert job.summary.counts["cancelled"] >= FILES - 4
        _until(lambda: not any(client.processing().values()), "the scheduler to drop the run's tasks")
        _until(lambda: not _left_in(scratch), "the running items' temp folders to go")


def _until(condition, what: str, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)  # ok: polling the scheduler's state, bounded


def test_a_file_over_the_size_limit_fails_its_item_saying_so(job_files):
    address, folder, _scratch = job_files
    prepared = _spec(folder, "out").prepare()
    limit_mb = 2000 / 2**20  # the files are 500 to 2,731 bytes: the larger ones are over it
    outcomes = list(run(prepared.task, prepared.items, backend="dask",
                        backend_options={"address": address, "files": "shipped", "ship_limit_mb": limit_mb}))
    over = {o.item.name for o in outcomes if not o.ok}
    assert over == {p.name for p in (folder / "in").iterdir() if p.stat().st_size > 2000}
    message = next(o.error.message for o in outcomes if not o.ok)
    assert "over the 2.0 KiB limit for a shipped file" in message and "ship_limit_mb" in message
    assert all((folder / "out" / f"{o.item.name}.rev").exists() for o in outcomes if o.ok)


def test_the_trace_names_each_cluster_worker_track(job_files, tmp_path):
    address, folder, _scratch = job_files
    from poolside.trace import trace_events

    prepared = _spec(folder, "out").prepare()
    job = run(prepared.task, prepared.items, backend="dask", chunk_size=2,
              backend_options={"address": address, "files": "shipped"})
    outcomes = list(job)
    names = job.backend.process_names()
    assert set(names) == {o.pid for o in outcomes}
    events = trace_events(outcomes, process_names=names)
    tracks = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert tracks and all(t.startswith("Dask worker tcp://127.0.0.1:") for t in tracks), tracks
