"""A window run's CPU and memory series is stored with the run, and the History tab reopens it."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication

from poolside.history import get_series, store
from tests import PLUGIN_FILES
from tests.waits import WAIT_S


def _run_and_wait(driver) -> tuple[int, dict]:
    seconds = 1.5 if os.environ.get("POOLSIDE_SHOTS") else 0.3  # a run long enough to look at, for the shots
    assert driver.load_plugin_file(PLUGIN_FILES / "host_tasks.py")
    driver.choose_plugin("spin", seconds=seconds)
    driver.add_items(f"s{i}.txt" for i in range(4))
    driver.choose_backend("processes", 2)
    driver.run_and_wait()
    window = driver.window
    assert window.run_ws.series_store.wait(WAIT_S)
    history_id = window.bridge.history_id
    assert history_id is not None
    return history_id, window.run_ws.cpu_monitor.run_series()


def test_a_window_run_leaves_its_series_in_the_history(driver):
    history_id, shown = _run_and_wait(driver)
    conn = store.connect()
    try:
        [run] = store.list_runs(conn)
        assert run["id"] == history_id
        stored = get_series(conn, history_id)
    finally:
        conn.close()
    assert stored is not None and len(stored["t"]) == len(shown["t"]) >= 1
    assert stored["core_user"].shape == shown["core_user"].shape
    # Every process the window sampled, with all its samples (a short run may end before a worker's first).
    assert "host" in {p["role"] for p in stored["processes"]}
    assert [(p["pid"], p["role"], len(p["cpu"])) for p in stored["processes"]] == \
        [(p["pid"], p["role"], len(p["cpu"])) for p in shown["processes"]]


def test_the_history_tab_reopens_a_run_s_cpu_views_and_exports_its_counters(driver, tmp_path):
    history_id, shown = _run_and_wait(driver)
    window = driver.window
    h = window.history_ws
    h.refresh()
    window.tabs.setCurrentWidget(h)
    h.select(str(history_id))
    view = h.cpu_view
    assert h.pages.currentWidget() is h.runs_page and h.cpu_box.isVisible()
    assert view.series is not None and len(view.series["t"]) == len(shown["t"])
    assert view.cores.isVisible() and view.export_button.isEnabled()
    assert "not the process, thread or start" in view.note.text()
    if os.environ.get("POOLSIDE_SHOTS"):  # a person looks: POOLSIDE_SHOTS=/tmp/shots
        window.resize(1280, 800)
        for tab in range(3):
            view.cores.tabs.setCurrentIndex(tab)
            QApplication.processEvents()  # lay out and paint the tab before the grab
            window.grab().save(os.path.join(os.environ["POOLSIDE_SHOTS"], f"history-cpu-{tab}.png"))
        _grab_dark(window, os.path.join(os.environ["POOLSIDE_SHOTS"], "history-cpu-dark.png"))

    out = tmp_path / "old.json"
    assert view.export_trace(str(out))
    events = json.loads(out.read_text(encoding="utf-8"))["traceEvents"]
    assert any(e["ph"] == "C" for e in events) and not any(e["ph"] == "X" for e in events)

    conn = store.connect()  # a run recorded before series were kept says so
    try:
        conn.execute("DELETE FROM run_series")
    finally:
        conn.close()
    h.select()
    h.select(str(history_id))
    assert view.series is None and not view.export_button.isEnabled()
    assert "No CPU history was stored" in view.note.text()


def _grab_dark(window, path: str) -> None:
    from PySide6.QtGui import QColor, QPalette

    from poolside.gui.theme import derive_hint_colors

    app = QApplication.instance()
    saved = app.palette()
    dark = QPalette(saved)
    for role, color in (("Window", "#202124"), ("WindowText", "#e8eaed"), ("Base", "#17181a"), ("Text", "#e8eaed"),
                        ("Button", "#2d2e31"), ("ButtonText", "#e8eaed"), ("AlternateBase", "#26272a")):
        dark.setColor(getattr(QPalette.ColorRole, role), QColor(color))
    try:
        app.setPalette(dark)
        derive_hint_colors()
        QApplication.processEvents()
        window.grab().save(path)
    finally:
        app.setPalette(saved)
