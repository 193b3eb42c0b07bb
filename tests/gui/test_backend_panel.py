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
    panel.set_busy(True)
    panel.set_busy(False)
    assert not panel.workers.isEnabled()  # the end of a run does not unlock it
    panel.set_backend("threads")
    assert panel.workers.isEnabled() and panel.workers.value() == 8
