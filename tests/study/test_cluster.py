"""When the cluster pays: the hand-off cost per item, and the work per item from which the cluster wins.

``tests/study_data/grid_cluster.json`` is a real study: ``poolside compare`` of a
plugin that naps 30 ms per file, processes at 1 and 2 workers against dask on
the two-worker cluster ``.ci/run`` starts, files shipped.
"""

from __future__ import annotations

import pytest

from poolside.study.cluster import fit_grid, handoff_note
from poolside.study.plan import Config
from poolside.words.study import note
from tests.study_fakes import config_of, study


def _items(record) -> list[str]:
    return ["x"] * record.items  # the sample's paths are gone: no MB per item then


def test_no_more_workers_than_local_processes_never_pays_and_says_its_costs():
    record = study("grid_cluster")
    found = handoff_note(record.configs, _items(record), {"address": "tcp://h:8786"})
    assert found is not None and found["break_even_s"] is None
    dask = config_of(record, "dask")
    run = sorted(dask.runs, key=lambda r: r.wall_s)[1]
    assert found["handoff_s"] == pytest.approx((run.wall_s * 2 - run.busy_s) / record.items)
    assert found["handoff_s"] > found["local_handoff_s"] > 0
    sentence = note(found)
    assert "cannot beat them whatever the work per item" in sentence
    assert f"{found['handoff_s'] * 1000:.1f} ms an item on the cluster" in sentence


def test_more_workers_than_local_processes_pays_from_the_break_even_work():
    record = study("grid_cluster")
    one_process = [config_of(record, "processes", 1), config_of(record, "dask")]
    found = handoff_note(one_process, _items(record), {"address": "tcp://h:8786", "files": "shipped"})
    assert found is not None
    h_c, h_p = found["handoff_s"], found["local_handoff_s"]
    # (t + h_c) / 2 == (t + h_p) / 1 at the break-even work t
    assert found["break_even_s"] == pytest.approx(max(0.0, h_c - 2 * h_p))
    assert note(found).startswith("items need ≥ ")
    assert "for the cluster (2 workers) to beat 1 local process;" in note(found)
    assert "MB shipped each" in note(found)


def test_without_a_cluster_run_there_is_no_note_and_without_an_address_the_grid_stands():
    record = study("grid_cluster")
    assert handoff_note([config_of(record, "processes", 2)], _items(record), {}) is None
    grid = [Config("dask", 1), Config("dask", 4), Config("processes", 2)]
    assert fit_grid(grid, {}) == grid


def test_the_cost_per_mb_is_measured_on_the_cluster_and_said():
    import json
    import os
    from pathlib import Path

    from poolside.study.cluster import transfer_cost

    scheduler_file = os.environ.get("POOLSIDE_TEST_DASK_SCHEDULER_FILE")
    if not scheduler_file or not Path(scheduler_file).exists():
        pytest.skip("no Dask cluster: .ci/run starts one (POOLSIDE_TEST_DASK_SCHEDULER_FILE)")
    per_mb = transfer_cost(json.loads(Path(scheduler_file).read_text())["address"])
    assert per_mb is not None and per_mb >= 0
    record = study("grid_cluster")
    found = handoff_note(record.configs, _items(record), {"files": "shipped"})
    assert found is not None
    found["per_mb_s"] = per_mb
    assert "per MB" in note(found)
