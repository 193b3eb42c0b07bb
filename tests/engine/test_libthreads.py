"""Capping a task's libraries' own threads (BLAS) in each worker: ``run(..., library_threads=N)``."""

from __future__ import annotations

import pytest

from poolside import run
from poolside.spec import JobSpec, SpecError


def blas_threads(_item: object) -> int:
    """How many threads BLAS may use while this item runs (numpy loaded before the question)."""
    import numpy  # noqa: F401  (loads BLAS in the worker)
    from threadpoolctl import threadpool_info

    return max(p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas")


@pytest.fixture
def multi_threaded_blas() -> None:
    pytest.importorskip("numpy")
    from threadpoolctl import threadpool_info

    if not any(p.get("user_api") == "blas" and p.get("num_threads", 1) >= 2 for p in threadpool_info()):
        pytest.skip("BLAS runs one thread here: nothing to cap")


@pytest.mark.parametrize("backend", ["processes", "sequential", "mp-pool"])
def test_each_item_runs_with_the_libraries_capped(backend: str, multi_threaded_blas: None) -> None:
    # A worker that loads BLAS in its first item runs that one uncapped (the libthreads module says why):
    # the second item of each worker onwards is capped, so a chunk of 4 items per worker shows it.
    job = run(blas_threads, range(8), backend=backend, workers=2, chunk_size=4, library_threads=1)
    values = [o.value for o in job]
    assert job.summary.counts["ok"] == 8 and values.count(1) >= 6, values
    after = run(blas_threads, range(4), backend=backend, workers=2, chunk_size=2)
    assert all(o.value >= 2 for o in after), "the cap outlived its run in a parked worker"


@pytest.mark.parametrize("backend", ["threads", "thread-executor", "asyncio"])
def test_backends_whose_items_share_one_process_refuse_it(backend: str) -> None:
    with pytest.raises(ValueError, match="share the libraries' pools|shares the libraries' pools"):
        run(abs, [1], backend=backend, library_threads=1)
    with pytest.raises(SpecError, match="library threads"):
        JobSpec("sha256", paths=("x",), backend=backend, library_threads=1).bind()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_a_cap_that_is_not_a_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="library_threads must be a whole number"):
        run(abs, [1], backend="processes", library_threads=bad)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="library_threads must be a whole number"):
        JobSpec("sha256", library_threads=bad)  # type: ignore[arg-type]


def test_the_cap_round_trips_through_a_job_file(tmp_path) -> None:
    spec = JobSpec("sha256", paths=("a",), backend="processes", library_threads=1)
    path = tmp_path / "job.toml"
    spec.save(path)
    assert JobSpec.load(path) == spec and spec.run_options()["library_threads"] == 1
