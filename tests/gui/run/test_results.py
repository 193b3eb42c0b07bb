"""The results table: its model and proxy (columns, filters, sorting), the panel, and the timeline's export."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")


from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle

from poolside.gui.workspaces.run.results_model import ResultsModel, ResultsProxy, shown_root
from tests.outcomes import failed, ok
from tests.waits import WAIT_MS


def test_results_model_makes_a_column_per_value_field(qtbot):
    m = ResultsModel()
    m.append([ok(0, {"sha256": "ab", "bytes": 3}), failed(1)])
    m.append([ok(2, {"sha256": "cd", "bytes": 4, "lines": 9})])
    assert m.column_names() == ["Status", "Item", "sha256", "bytes", "lines", "Time", "Worker"]
    assert m.index(2, 4).data() == "9"
    assert m.index(1, 0).data() == "failed"
    assert m.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert m.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert "bad 1" in m.index(1, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_results_model_uses_one_value_column_for_plain_values(qtbot):
    m = ResultsModel()
    m.set_item_root("/data")
    m.append([ok(0, 41), ok(1, 42)])
    assert m.column_names() == ["Status", "Item", "value", "Time", "Worker"]
    assert m.index(1, 1).data() == "f1.txt"
    assert m.index(1, 2).data() == "42"


def test_shown_root_is_the_parent_of_the_common_folder():
    assert shown_root(["/a/b/c/1.txt", "/a/b/c/d/2.txt"]) == "/a/b"
    assert shown_root(["/a/b/1.txt"]) == "/a"
    assert shown_root([]) == ""


def test_proxy_filters_by_status_and_text_and_sorts_numbers_as_numbers(qtbot):
    m = ResultsModel()
    m.append([ok(i, {"n": 10 - i}) for i in range(10)] + [failed(10), failed(11)])
    p = ResultsProxy(m)
    assert p.rowCount() == 12
    p.set_statuses(["failed"])
    assert p.rowCount() == 2
    p.set_statuses(None)
    p.set_text("F1")  # f1, f10, f11: case-insensitive
    assert sorted(o.index for o in p.visible_outcomes()) == [1, 10, 11]
    p.set_text("")
    p.sort(2, Qt.SortOrder.AscendingOrder)  # n: 10..1, failed rows have none
    values = [o.value["n"] for o in p.visible_outcomes() if o.value]
    assert values == sorted(values)
    p.set_statuses([])
    assert p.rowCount() == 0


def test_model_sorts_fast_merges_streamed_rows_and_keeps_the_selection(qtbot):
    m = ResultsModel()
    m.append([ok(i, {"n": (i * 7) % 10}) for i in range(10)])
    p = ResultsProxy(m)
    picked = p.index(3, 0)  # arrival 3, n = 1
    from PySide6.QtCore import QPersistentModelIndex

    keep = QPersistentModelIndex(picked)
    p.sort(2, Qt.SortOrder.AscendingOrder)
    assert [o.value["n"] for o in p.visible_outcomes()] == list(range(10))
    assert m.sort_column == 2
    assert p.outcome(keep.row()).index == 3  # the same outcome is still selected
    # streamed rows land at the bottom, then merge into place on the timer
    with qtbot.waitSignal(m.layoutChanged):
        m.append([ok(10, {"n": 4.5}), failed(11), ok(12, {"n": -1})])
    shown = [o.value["n"] if o.value else None for o in p.visible_outcomes()]
    assert shown == [-1, 0, 1, 2, 3, 4, 4.5, 5, 6, 7, 8, 9, None]
    p.sort(2, Qt.SortOrder.DescendingOrder)
    assert [o.index for o in p.visible_outcomes()][0] == 11  # missing values sort last, so first here
    p.sort(-1)  # no sort: arrival order again
    assert [o.index for o in p.visible_outcomes()] == list(range(13))
    assert m.sort_column == -1


def test_clear_forgets_the_last_runs_results(qtbot, driver, tmp_path):
    (tmp_path / "a.txt").write_text("one two", encoding="utf-8")
    driver.choose_plugin("wordcount")
    driver.add_files([tmp_path / "a.txt"])
    driver.choose_backend("threads")
    driver.run_and_wait()
    assert len(driver.outcomes()) == 1 and driver.timeline_bars() == 1
    driver.run_ws.files.clear_action.trigger()
    assert len(driver.outcomes()) == 0 and driver.timeline_bars() == 0
    assert "Done" not in driver.headline()


def test_results_columns_fit_at_1280x800_and_the_export_menu_opens_inside(qtbot, driver):
    driver.window.resize(1280, 800)
    driver.run_ws.results.model.set_value_keys(["output", "action", "bytes_in", "bytes_out"])
    driver.run_ws.results._size_columns()
    hh = driver.run_ws.results.view.horizontalHeader()
    total = sum(hh.sectionSize(c) for c in range(hh.count()))
    bar = driver.run_ws.results.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    assert total <= driver.run_ws.results.view.viewport().width() - bar + 2 + (
        bar if driver.run_ws.results.view.verticalScrollBar().isVisible() else 0)
    assert hh.sectionSize(2) > hh.sectionSize(3)  # the output path gets more room than a word
    menu = driver.run_ws.results.export_button.menu()
    button = driver.run_ws.results.export_button
    menu.popup(button.mapToGlobal(QPoint(0, button.height())))
    qtbot.waitUntil(menu.isVisible, timeout=WAIT_MS)
    right = driver.window.mapToGlobal(driver.window.rect().topRight()).x()
    assert menu.geometry().right() <= right
    menu.hide()


def test_export_timeline_writes_a_trace_of_the_run(qtbot, driver, tmp_path):
    for i in range(6):
        (tmp_path / f"n{i}.txt").write_text("a b c\n", encoding="utf-8")
    driver.choose_plugin("wordcount")
    driver.add_files(sorted(tmp_path.glob("*.txt")))
    driver.choose_backend("threads")
    driver.run_and_wait()
    path = tmp_path / "trace.json"
    assert driver.run_ws.exports.export_trace(str(path)) == 6
    events = json.loads(path.read_text(encoding="utf-8"))["traceEvents"]
    assert sum(e["ph"] == "X" for e in events) == 6
    assert any(e["ph"] == "C" for e in events) and any(e["ph"] == "M" for e in events)
    assert driver.run_ws.exports.trace_action.isEnabled()
