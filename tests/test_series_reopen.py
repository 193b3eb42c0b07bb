"""A window run's CPU and memory series is stored with the run, and the History tab reopens it."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from tests.test_host import WAIT_MS, set_up, window  # noqa: F401  (the fixture)

from poolside.history import get_series, store


def _run_and_wait(qtbot, window, tmp_path) -> tuple[int, dict]:  # noqa: F811
    set_up(window, tmp_path, "spin", [f"s{i}.txt" for i in range(4)], "processes", 2, seconds=0.3)
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    assert window.run_ws.series_store.wait(WAIT_MS / 1000)
    history_id = window.bridge.history_id
    assert history_id is not None
    return history_id, window.run_ws.cpu_monitor.run_series()


def test_a_window_run_leaves_its_series_in_the_history(qtbot, window, tmp_path):  # noqa: F811
    history_id, shown = _run_and_wait(qtbot, window, tmp_path)
    conn = store.connect()
    try:
        [run] = store.list_runs(conn)
        assert run["id"] == history_id
        stored = get_series(conn, history_id)
    finally:
        conn.close()
    assert stored is not None and len(stored["t"]) == len(shown["t"]) >= 1
    assert stored["core_user"].shape == shown["core_user"].shape
    roles = {p["role"] for p in stored["processes"]}
    assert "host" in roles and "worker" in roles
