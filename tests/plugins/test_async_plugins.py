"""``async def`` plugins from a user's file are awaited on every backend.

A bound plugin hides its function behind a sync ``__call__``; the backends
must still see the coroutine function, await it, and report what it raised.
"""

from __future__ import annotations

import pickle

import pytest

from poolside import Status, backend_names, run
from poolside.plugins import get_plugin
from tests import PLUGIN_FILES

FILE = PLUGIN_FILES / "async_tasks.py"
BACKENDS = [b for b in backend_names() if b != "dask"]


def test_a_bound_async_plugin_says_so_and_still_pickles_by_reference():
    task = get_plugin(f"{FILE}:doubled").bind({"by": "3"})
    assert task.is_coroutine_function is True
    assert get_plugin(f"{PLUGIN_FILES / 'my_tasks.py'}:shout").bind().is_coroutine_function is False
    copy = pickle.loads(pickle.dumps(task))
    assert copy.target == task.target and copy.kwargs == {"by": 3}


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_plugin_values_come_back_awaited(backend):
    task = get_plugin(f"{FILE}:doubled").bind({"by": "3"})
    job = run(task, range(6), backend=backend, workers=2, ordered=True)
    outcomes = list(job)
    assert [o.status for o in outcomes] == [Status.OK] * 6, [o.error for o in outcomes]
    assert [o.value for o in outcomes] == [0, 3, 6, 9, 12, 15]
    assert job.summary.counts["ok"] == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_plugin_exceptions_fail_their_item_with_the_message(backend):
    task = get_plugin(f"{FILE}:refuse_three").bind()
    job = run(task, range(6), backend=backend, workers=2, ordered=True)
    outcomes = list(job)
    failed = [o for o in outcomes if o.status is Status.FAILED]
    assert [o.item for o in failed] == [3]
    assert failed[0].error.type == "ValueError"
    assert failed[0].error.message == "async plugin refuses 3"
    assert [o.value for o in outcomes if o.ok] == [0, 1, 2, 4, 5]
    assert job.summary.counts == {"ok": 5, "failed": 1, "timed_out": 0, "cancelled": 0}
