"""The Run tab marks the items that the GIL serialised, on every backend whose items run in the
run host's threads: pure-Python work through the real window and its run host."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("PySide6")

from tests import PLUGIN_FILES
from tests.backends.test_registry import THREAD_FAMILY

TASKS = PLUGIN_FILES / "host_tasks.py"


@pytest.mark.parametrize("backend", THREAD_FAMILY)
def test_the_run_tab_marks_gil_bound_items_on_every_thread_backend(driver, backend):
    workers = 1 if backend == "sequential" else 4
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin("spin", seconds=0.5)  # pure Python: holds the GIL for half a second of wall time
    driver.add_items(f"n{i}" for i in range(2 * workers))
    driver.choose_backend(backend, workers)

    summary = driver.run_and_wait()

    assert summary.counts["ok"] == 2 * workers and driver.timeline_bars() == 2 * workers
    # The Workers view sets busy threads against the cores the run host used...
    headline = driver.workers_headline()
    assert re.match(r"\d+ threads? busy, \d+\.\d cores? used", headline), headline
    if workers == 1:
        # ...and one thread alone cannot contend for the GIL: no bar is pale.
        assert driver.gil_bound_bars() == 0
    else:
        # ...and four threads of pure Python share one core at most (the GIL), whatever the
        # machine's load: their bars are drawn pale.
        assert driver.gil_bound_bars() > 0
