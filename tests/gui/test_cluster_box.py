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
    assert not panel.cluster.isVisible() and panel.spec_fields()["backend_options"] == {}
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
