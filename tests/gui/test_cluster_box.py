"""The Backend panel's Dask part: the cluster, the files mode, the connection test, the install hint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from poolside import backend_info
from poolside.gui.widgets.backend_panel import BackendPanel
from poolside.spec import JobSpec


def _panel(qtbot, infos=None) -> BackendPanel:
    panel = BackendPanel(infos=infos)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_dask_shows_its_cluster_and_files_and_they_go_into_the_spec(qtbot):
    panel = _panel(qtbot)
    panel.set_backend("processes")
    assert not panel.cluster.isVisible() and "backend_options" not in panel.spec_fields()
    panel.set_backend("dask")
    assert panel.cluster.isVisible()
    assert not panel.cluster.address.isVisible(), "a local cluster has no address"
    panel.apply_spec(JobSpec("sha256", backend="dask",
                             backend_options={"address": "tcp://10.1.2.3:8786", "files": "shipped"}))
    assert panel.cluster.address.isVisible() and panel.cluster.test.isEnabled()
    assert panel.spec_fields()["backend_options"] == {"address": "tcp://10.1.2.3:8786", "files": "shipped"}


def test_without_distributed_dask_stays_and_says_how_to_install(qtbot):
    infos = [i._replace(available=False, reason="No module named 'distributed'") if i.name == "dask" else i
             for i in backend_info()]
    panel = _panel(qtbot, infos)
    assert panel.set_backend("dask") and panel.backend_name() == "dask"
    assert "pip install 'poolside[dask]'" in panel.cluster.report.text()
    assert not panel.cluster.cluster.isEnabled()


def test_a_wrong_address_is_answered_by_the_connection_test(qtbot):
    panel = _panel(qtbot)
    panel.set_backend("dask")
    panel.cluster.apply_options({"address": "nonsense://here"})
    panel.cluster.run_test()
    assert not panel.cluster.test.isEnabled(), "one test at a time"
    qtbot.waitUntil(lambda: "not a Dask scheduler address" in panel.cluster.report.text(), timeout=30_000)
    assert panel.cluster.test.isEnabled()


def test_the_connection_test_shows_the_workers_of_a_real_cluster(qtbot):
    scheduler_file = os.environ.get("POOLSIDE_TEST_DASK_SCHEDULER_FILE")
    if not scheduler_file or not Path(scheduler_file).exists():
        pytest.skip("no Dask cluster: .ci/run starts one (POOLSIDE_TEST_DASK_SCHEDULER_FILE)")
    address = json.loads(Path(scheduler_file).read_text())["address"]
    panel = _panel(qtbot)
    panel.set_backend("dask")
    panel.cluster.apply_options({"address": address})
    panel.cluster.run_test()
    qtbot.waitUntil(lambda: "workers on" in panel.cluster.report.text(), timeout=30_000)
    assert "2 threads" in panel.cluster.report.text()
    assert "Warning" not in panel.cluster.report.text(), "the same versions on both sides"


def test_the_workers_view_lists_the_clusters_workers_during_a_run_and_stops_after(qtbot):
    scheduler_file = os.environ.get("POOLSIDE_TEST_DASK_SCHEDULER_FILE")
    if not scheduler_file or not Path(scheduler_file).exists():
        pytest.skip("no Dask cluster: .ci/run starts one (POOLSIDE_TEST_DASK_SCHEDULER_FILE)")
    from poolside.gui.widgets.cores_panel import CoresPanel

    address = json.loads(Path(scheduler_file).read_text())["address"]
    panel = CoresPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_workers()
    panel.watch_cluster(address)
    table = panel.cluster_workers.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=30_000)
    assert {table.item(r, 0).text() for r in range(2)} <= {f"tcp://{a}" for a in _worker_hosts(address)}
    assert all(table.item(r, 4).text().endswith("GiB") or "MiB" in table.item(r, 4).text() for r in range(2))
    panel.watch_cluster(None)
    assert not panel.cluster_workers.watching


def _worker_hosts(address: str) -> set[str]:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        return {w.removeprefix("tcp://") for w in client.scheduler_info()["workers"]}
