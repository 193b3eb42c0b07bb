"""The per-worker memory cap: a worker above it is killed, its item fails saying so, the run goes on."""

from __future__ import annotations

import argparse

import pytest

from poolside import Status, run
from poolside.backends._memcap import MEMORY_CAP, MemoryCap
from poolside.cli.common import size
from poolside.spec import JobSpec, SpecError
from poolside.words.memory import above_cap
from poolside.words.units import SizeError, parse_size, size_text
from tests import engine_tasks as tasks

CAP = 80 * 10**6


@pytest.mark.parametrize("backend", ["processes", "process-per-item", "mp-pool"])
def test_a_worker_above_the_cap_fails_its_item_and_the_run_goes_on(backend: str) -> None:
    job = run(tasks.hog_on_3, range(10), backend=backend, workers=2, chunk_size=1,
              backend_options={"max_memory_per_worker": "80MB"})
    outcomes = sorted(job, key=lambda o: o.index)
    assert [o.index for o in outcomes] == list(range(10))  # each item exactly one outcome
    failed = [o for o in outcomes if o.status != Status.OK]
    assert [o.index for o in failed] == [3]
    assert failed[0].status == Status.FAILED
    assert failed[0].error.message.startswith("used ") and ", above the 80 MB cap" in failed[0].error.message
    # The library pool's own words follow: it would have waited for the lost call forever.
    assert failed[0].error.type == (MEMORY_CAP if backend != "mp-pool" else "WorkerDied")
    assert [o.value for o in outcomes if o.index != 3] == [0, 1, 2, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("backend", ["threads", "sequential", "thread-executor", "process-executor"])
def test_a_backend_that_cannot_kill_a_worker_refuses_the_cap(backend: str) -> None:
    with pytest.raises(ValueError, match="a per-worker memory cap needs worker processes"):
        run(tasks.square, range(3), backend=backend, backend_options={"max_memory_per_worker": CAP})
    spec = JobSpec(plugin="sha256", paths=("x",), backend=backend, max_memory_per_worker="1GB")
    with pytest.raises(SpecError, match="a per-worker memory cap needs worker processes"):
        spec.bind()


def test_the_cap_leaves_a_worker_below_it_alone() -> None:
    import os

    cap = MemoryCap(10**12, lambda: [os.getpid()])
    assert cap.check() == []
    assert cap.died(os.getpid(), -9).type == "WorkerDied"  # not killed by the cap: a plain death


def test_the_spec_reads_a_size_and_passes_it_to_the_backend() -> None:
    spec = JobSpec(plugin="sha256", paths=("x",), max_memory_per_worker="1.5 GiB")
    assert spec.max_memory_per_worker == 1536 * 2**20
    assert spec.run_options()["backend_options"] == {"max_memory_per_worker": 1536 * 2**20}
    assert JobSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="max_memory_per_worker: '1 parsec' is not a size"):
        JobSpec(plugin="sha256", max_memory_per_worker="1 parsec")


@pytest.mark.parametrize(("text", "expected"), [
    ("2GB", 2 * 10**9), ("512MB", 512 * 10**6), ("1.5 GiB", 1536 * 2**20), ("100", 100), ("4k", 4000),
    ("64 mib", 64 * 2**20), (" 1 TB ", 10**12), (3000, 3000),
])
def test_sizes_people_write(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GB", "2 GBs", "1,5GB", "-1GB", "0", "0MB", "nan", True])
def test_a_size_that_is_not_one_says_so(text: object) -> None:
    with pytest.raises(SizeError):
        parse_size(text)  # type: ignore[arg-type]
    with pytest.raises(argparse.ArgumentTypeError):
        size(str(text))


def test_a_size_reads_in_the_units_of_its_cap() -> None:
    assert above_cap(1_300_000_000, 10**9) == "used 1.3 GB, above the 1 GB cap"
    assert above_cap(int(1.3 * 2**30), 2**30) == "used 1.3 GiB, above the 1.0 GiB cap"
    assert size_text(512 * 10**6, 512 * 10**6) == "512 MB"
