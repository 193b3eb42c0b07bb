"""A run on a Dask cluster from the window: the Backend panel's address and files mode reach the
workers (which cannot see the files or the plugin), the outputs come back, the headline says where."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("distributed")

from tests.backends.test_dask_remote import PLUGIN


def test_a_run_on_the_cluster_with_shipped_files_from_the_window(driver, request):
    scheduler_file = os.environ.get("POOLSIDE_TEST_DASK_SCHEDULER_FILE")
    if not scheduler_file or not Path(scheduler_file).exists():
        pytest.skip("no Dask cluster that cannot see the test's files: .ci/run starts one")
    address = json.loads(Path(scheduler_file).read_text())["address"]
    folder = Path(os.environ["POOLSIDE_TEST_DASK_HIDDEN"]) / request.node.name
    (folder / "in").mkdir(parents=True)
    request.addfinalizer(lambda: __import__("shutil").rmtree(folder))
    (folder / "mirror.py").write_text(PLUGIN)
    for i in range(6):
        (folder / "in" / f"g{i}.bin").write_bytes(os.urandom(300 + i))

    assert driver.load_plugin_file(folder / "mirror.py")
    driver.choose_plugin("mirror", out=str(folder / "out"))
    driver.add_files(sorted((folder / "in").iterdir()))
    driver.choose_backend("dask")
    driver.run_ws.backend.cluster.apply_options({"address": address, "files": "shipped"})

    with driver.qtbot.waitSignal(driver.window.runFinished, timeout=120_000) as blocker:
        assert driver.start_run(), driver.problems()
        assert f"the Dask cluster at {address}; files: shipped" in driver.headline()
    summary = blocker.args[0]
    assert summary.counts["ok"] == 6, [o.error for o in driver.outcomes() if not o.ok]
    assert sorted(os.listdir(folder / "out")) == [f"g{i}.bin.rev" for i in range(6)]
