"""A result that pickles in the worker but cannot be unpickled in the parent.

Such a result costs its own item and nothing else where the backend reads
results itself; a library that breaks or would hang on it is noticed, and
every item still ends exactly once with a reason a user can act on.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from poolside import Status, backend_names, run
from poolside.backends import get_backend
from poolside.backends._unpickle import loads_lenient, repair_done, unrebuilt_in
from poolside.backends.protocol import Done
from tests.backends import unreadable_results as tasks

REFUSED = "RuntimeError: this result refuses to be rebuilt"
# Every backend (dask has its own cluster tests), and each way multiprocessing.Pool is called.
CONFIGS = [(b, None) for b in backend_names() if b != "dask"] + [
    *[("mp-pool", m) for m in ("map", "imap", "imap_unordered")],
    ("process-executor", "map"), ("joblib", "generator"), ("joblib", "list")]


def _id(config):
    backend, method = config
    return backend if method is None else f"{backend}:{method}"


def _run(config, task, items):
    backend, method = config
    job = run(task, items, backend=backend, method=method, workers=2, ordered=True)
    outcomes = list(job)
    assert sorted(o.index for o in outcomes) == list(range(len(items)))  # each item once
    counts = job.summary.counts
    assert counts["ok"] == sum(o.ok for o in outcomes)
    assert counts["failed"] == sum(o.status is Status.FAILED for o in outcomes)
    return outcomes


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_an_unreadable_result_ends_failed_and_says_why(config):
    backend, method = config
    outcomes = _run(config, tasks.unreadable_on_odd, list(range(10)))
    failed = [o for o in outcomes if o.status is Status.FAILED]
    for o in outcomes:
        if o.ok:
            if o.item % 2:  # read where it was made: nothing was unpickled
                assert isinstance(o.value, tasks.Unrebuildable)
            else:
                assert o.value == o.item * o.item
    if get_backend(backend).kind in ("threads", "async"):
        assert not failed  # results never leave the process
    else:
        # The backend reads results itself, or a library pool's come sealed as bytes
        # (backends._sealed): exactly the unreadable ones fail, and the library never breaks.
        assert [o.item for o in failed] == [1, 3, 5, 7, 9]
        assert {o.error.message for o in failed} == {f"its result could not be read back: {REFUSED}"}


@pytest.mark.parametrize("config", [("processes", None), ("process-per-item", None), ("mp-pool", None),
                                    ("mp-pool", "imap"), ("process-executor", "map"), ("joblib", None)], ids=_id)
def test_an_unreadable_object_deep_inside_a_result_fails_only_its_item(config):
    outcomes = _run(config, tasks.nested_unreadable, list(range(7)))
    failed = {o.item: o.error.message for o in outcomes if o.status is Status.FAILED}
    assert failed == {2: f"its result could not be read back: {REFUSED}",
                      5: "its result could not be read back: ValueError: this state cannot be restored"}
    assert [o.value for o in outcomes if o.ok] == [{"x": x} for x in (0, 1, 3, 4, 6)]


def test_a_done_batch_keeps_its_readable_values_and_its_own_errors():
    from poolside.records import ErrorInfo

    own = ErrorInfo("KeyError", "'k'")
    done = Done(0, 4, 10, [1, tasks.Unrebuildable(), None, [tasks.Unrebuildable()]], [(2, own)],
                [0.0] * 4, [0.0] * 4, 0.0, True)
    data = pickle.dumps(done)
    with pytest.raises(RuntimeError) as raised:
        pickle.loads(data)
    repaired = repair_done(data, raised.value)
    assert repaired.values == [1, None, None, None] and repaired.chunk_id == 4 and repaired.offset == 10
    assert repaired.errors[1] == (2, own)
    assert [i for i, _ in repaired.errors] == [1, 2, 3]
    assert repaired.errors[0][1].message == f"its result could not be read back: {REFUSED}"


def test_a_class_that_does_not_import_here_stands_in_and_names_itself():
    data = pickle.dumps({"v": tasks.Unrebuildable()}).replace(
        b"tests.backends.unreadable_results", b"tests.backends.no_such_module_xyz")
    value = loads_lenient(data)
    stand_in = unrebuilt_in(value)
    assert stand_in is not None and "no_such_module_xyz" in stand_in.reason
    assert unrebuilt_in({"fine": [1, (2, 3)]}) is None


def test_a_call_the_broken_process_executor_never_answers_ends_failed():
    """ProcessPoolExecutor's manager thread fails the calls it knows of and ends; a call submitted
    while it broke stays pending for good. Once that thread has ended, the backend answers it."""
    import threading
    import time

    from poolside.backends.classic_futures import ProcessExecutorBackend
    from poolside.backends.protocol import Chunk

    backend = ProcessExecutorBackend(abs, 1, timeout=None, origin=time.perf_counter())
    backend.start()
    pool: Any = backend._pool
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    real, pool._executor_manager_thread = pool._executor_manager_thread, ended
    try:
        backend._in_flight[7] = Chunk(7, [1, 2])  # as submit() keeps a call whose answer never comes
        [event] = backend.poll(0.01)
        assert isinstance(event, Done) and event.chunk_id == 7 and event.errors is not None
        assert [i for i, _ in event.errors] == [0, 1]
        assert event.errors[0][1].type == "BrokenProcessPool"
        assert not backend._in_flight
    finally:
        pool._executor_manager_thread = real
        backend.shutdown(cancel=True)
