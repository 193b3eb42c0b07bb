"""The backend panel: the workers a backend takes."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from poolside.gui.widgets.backend_panel import BackendPanel


def test_sequential_holds_workers_at_one_and_gives_the_choice_back(qtbot):
    panel = BackendPanel()
    qtbot.addWidget(panel)
    panel.set_backend("threads")
    panel.workers.setValue(8)
    panel.set_backend("sequential")
    assert not panel.workers.isEnabled() and panel.resolved_workers() == 1
    assert panel.spec_fields()["workers"] is None
    panel.set_backend("threads")
    assert panel.workers.isEnabled() and panel.workers.value() == 8


def test_the_memory_cap_goes_to_the_spec_on_process_backends_only(qtbot):
    from poolside.spec import JobSpec, SpecError

    panel = BackendPanel()
    qtbot.addWidget(panel)
    panel.set_backend("processes")
    panel.memory_cap.setText("1GB")
    assert panel.memory_cap.isEnabled() and panel.spec_fields()["max_memory_per_worker"] == "1GB"
    assert JobSpec("sha256", **panel.spec_fields()).max_memory_per_worker == 10**9
    assert not panel.hint.text()
    panel.set_backend("threads")
    assert not panel.memory_cap.isEnabled() and "max_memory_per_worker" not in panel.spec_fields()
    assert "a per-worker memory cap needs worker processes" in panel.hint.text()
    panel.set_backend("process-per-item")
    panel.memory_cap.setText("1 GBs")
    assert "'1 GBs' is not a size" in panel.hint.text()
    with pytest.raises(SpecError, match="is not a size"):
        JobSpec("sha256", **panel.spec_fields())
    panel.apply_spec(JobSpec("sha256", backend="processes", max_memory_per_worker="512MiB"))
    assert panel.memory_cap.text() == "512.0 MiB" and panel.spec_fields()["max_memory_per_worker"] == "512.0 MiB"
    assert JobSpec("sha256", **panel.spec_fields()).max_memory_per_worker == 512 * 2**20


def test_library_threads_go_to_the_spec_where_a_worker_runs_one_item_per_process(qtbot):
    from poolside.gui.a11y import name_controls
    from poolside.spec import JobSpec

    panel = BackendPanel()
    qtbot.addWidget(panel)
    name_controls(panel)  # as the Run tab names its panels' controls
    panel.set_backend("processes")
    assert panel.library_threads.accessibleName() == "Library threads"
    assert panel.library_threads.text() == "As they are" and "library_threads" not in panel.spec_fields()
    panel.library_threads.setValue(1)
    assert panel.library_threads.isEnabled() and JobSpec("sha256", **panel.spec_fields()).library_threads == 1
    panel.set_backend("threads")
    assert not panel.library_threads.isEnabled() and "library_threads" not in panel.spec_fields()
    assert "share the libraries' pools" in panel.hint.text()
    panel.apply_spec(JobSpec("sha256", backend="sequential", library_threads=2))
    assert panel.library_threads.isEnabled() and panel.spec_fields()["library_threads"] == 2
