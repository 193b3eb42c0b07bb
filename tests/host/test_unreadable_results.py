"""A result the run host sends that cannot be unpickled in the window fails its item alone.

The host pickles its outcomes in batches: one result that raises when rebuilt
must not take the batch with it, and the summary's counts must agree with the
rows the window shows.
"""

from __future__ import annotations

import pytest

from tests import PLUGIN_FILES

pytest.importorskip("PySide6")

from poolside.spec import JobSpec
from tests.gui_helpers import run_in_bridge

TASKS = str(PLUGIN_FILES / "unreadable_tasks.py")
NOT_A_NUMBER = "ValueError: invalid literal for int() with base 10: 'not a number'"


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_a_result_that_cannot_be_rebuilt_fails_alone_and_the_counts_agree(qtbot, backend):
    items = [f"item{i}" for i in range(6)] + ["odd1", "odd2"] + [f"more{i}" for i in range(2)]
    summary, rows = run_in_bridge(qtbot, JobSpec(plugin=f"{TASKS}:refuse_odd", backend=backend, workers=2),
                                  items)
    assert sorted(o.item for o in rows) == sorted(items)  # every row arrived, once
    assert summary.counts == {"ok": 8, "failed": 2, "timed_out": 0, "cancelled": 0}
    assert summary.counts["ok"] == sum(o.ok for o in rows)
    failed = sorted((o for o in rows if not o.ok), key=lambda o: o.item)
    assert [o.item for o in failed] == ["odd1", "odd2"]
    for o in failed:
        assert o.value is None and o.error.type == "UnpicklingError"
        # On threads the window cannot read it; on processes the host itself could not.
        where = " in the window" if backend == "threads" else ""
        assert o.error.message == f"its result could not be read back{where}: {NOT_A_NUMBER}"
    assert {o.value for o in rows if o.ok} == set(items) - {"odd1", "odd2"}
