"""The window's parts without the window: bridge, models, export, scanner, form."""

from __future__ import annotations

import csv
import json
import os
import threading

import pytest

from poolside.records import ErrorInfo, Outcome, Status, Summary

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt

from poolside import serialize
from poolside.gui.bridge import BatchPump, RunBridge
from poolside.gui.workspaces.run.files_model import FilesModel
from poolside.gui.workspaces.run.results_model import ResultsModel, ResultsProxy, shown_root
from poolside.gui.workspaces.run.scanner import parse_patterns, walk


def ok(i: int, value=None, worker: int = 0) -> Outcome:
    return Outcome(i, f"/data/f{i}.txt", Status.OK, value, None, 0.001 * (i % 7), worker, 0.01 * i)


def failed(i: int) -> Outcome:
    err = ErrorInfo("ValueError", f"bad {i}", "Traceback (most recent call last):\n  ...\nValueError: bad")
    return Outcome(i, f"/data/f{i}.txt", Status.FAILED, None, err, 0.002, 1, 0.01 * i)


# -- BatchPump ------------------------------------------------------------------


def test_pump_delivers_everything_from_another_thread_in_batches(qtbot):
    pump = BatchPump(interval_ms=10)
    got: list[int] = []
    batches: list[int] = []
    pump.batchReady.connect(lambda b: (got.extend(b), batches.append(len(b))))
    pump.start()
    push, close = pump.sink()

    def produce():
        for start in range(0, 20_000, 100):
            push(list(range(start, start + 100)))
        close("done")

    with qtbot.waitSignal(pump.drained) as blocker:
        threading.Thread(target=produce).start()
    assert blocker.args == ["done"]
    assert got == list(range(20_000))
    assert len(batches) < 200  # coalesced: fewer signals than pushes
    assert not pump.active


def test_pump_ignores_a_producer_from_an_earlier_generation(qtbot):
    pump = BatchPump(interval_ms=10)
    got: list = []
    pump.batchReady.connect(got.extend)
    pump.start()
    old_push, old_close = pump.sink()
    pump.start()  # a new run
    push, close = pump.sink()
    old_push(["stale"])
    old_close("stale")
    push(["fresh"])
    with qtbot.waitSignal(pump.drained) as blocker:
        close("new")
    assert got == ["fresh"]
    assert blocker.args == ["new"]


def test_pump_sizes_batches_to_fit_its_time_budget(qtbot):
    pump = BatchPump(budget_ms=10, min_batch=10, max_batch=50_000)
    first = pump._cap
    for _ in range(20):
        pump._learn(1_000, 0.1)  # 0.1 ms an item: 100 items fit 10 ms
    assert pump._cap < first and 100 <= pump._cap <= 110
    for _ in range(40):
        pump._learn(1_000, 0.000001)  # nearly free: up to the ceiling
    assert pump._cap > 40_000


def test_pump_takes_a_tick_that_overran_its_budget_down_at_once(qtbot):
    pump = BatchPump(budget_ms=8, min_batch=10, max_batch=50_000)
    for _ in range(40):
        pump._learn(1_000, 0.000001)  # cheap rows: the cap grows to its ceiling
    pump._learn(pump._cap, pump._cap * 0.0001)  # then rows cost 0.1 ms each (a sorted table)
    assert pump._cap == 80  # 8 ms of them at once, not halfway there


# -- RunBridge with the real engine (in a run host) ------------------------------


@pytest.fixture
def make_bridge():
    made: list[RunBridge] = []

    def make(**kwargs) -> RunBridge:
        made.append(RunBridge(**kwargs))
        return made[-1]

    yield make
    for bridge in made:
        bridge.shutdown()  # its run host ends with it


def test_bridge_streams_a_real_run_in_order_of_arrival_and_finishes(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10)
    rows: list = []
    bridge.outcomesReady.connect(rows.extend)
    with qtbot.waitSignal(bridge.finished) as blocker:
        bridge.start(abs, list(range(-2_000, 0)), backend="threads", workers=2)
        assert bridge.running
    summary = blocker.args[0]
    assert summary.total == 2_000 and summary.counts["ok"] == 2_000
    assert sorted(o.value for o in rows) == list(range(1, 2_001))
    assert bridge.progress.done == 2_000
    assert not bridge.running


def test_bridge_start_refuses_a_second_run_and_reports_bad_options(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10)
    with qtbot.waitSignal(bridge.startFailed) as blocker:
        bridge.start(abs, [1], backend="no-such-backend")
    assert isinstance(blocker.args[0], ValueError) and "no-such-backend" in str(blocker.args[0])
    assert not bridge.running
    with qtbot.waitSignal(bridge.finished):
        bridge.start(abs, [1, -2], backend="threads")
        with pytest.raises(RuntimeError):
            bridge.start(abs, [1], backend="threads")


def test_bridge_wait_delivers_the_rest_and_finishes(qtbot, make_bridge):
    bridge = make_bridge(interval_ms=10_000)  # the timer alone would not get there
    rows: list = []
    finished: list = []
    bridge.outcomesReady.connect(rows.extend)
    bridge.finished.connect(finished.append)
    bridge.start(abs, list(range(500)), backend="threads", workers=2)
    assert bridge.wait(timeout=60)
    assert len(rows) == 500 and len(finished) == 1 and not bridge.running


# -- FilesModel ------------------------------------------------------------------


def test_files_model_ignores_duplicates_and_keeps_totals(qtbot, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"x" * 10)
    b.write_bytes(b"y" * 5)
    m = FilesModel()
    changes: list = []
    m.changed.connect(lambda n, size: changes.append((n, size)))
    assert m.add_files([a, b, a]) == 2
    assert m.add_files([str(b), tmp_path / "missing"]) == 0
    assert len(m) == 2 and m.total_bytes == 15 and changes[-1] == (2, 15)
    assert m.index(0, 0).data() == "a.txt" and m.index(0, 1).data() == "10 B"
    assert str(a) in m
    m.remove_rows([0])
    assert m.paths() == [str(b)] and m.total_bytes == 5
    m.clear()
    assert len(m) == 0 and changes[-1] == (0, 0)


def test_files_model_removes_many_scattered_rows(qtbot):
    m = FilesModel()
    m.add((f"/x/{i}", i) for i in range(1_000))
    assert m.remove_rows(range(0, 1_000, 2)) == 500  # 500 ranges: one reset
    assert m.paths()[:3] == ["/x/1", "/x/3", "/x/5"]
    assert m.total_bytes == sum(range(1, 1_000, 2))
    assert m.add([("/x/0", 0)]) == 1  # removed paths can come back


# -- ResultsModel and its proxy ----------------------------------------------------


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


# -- export ------------------------------------------------------------------------


def test_export_csv_and_json_round_trip(tmp_path):
    rows = [ok(0, {"sha256": "ab", "status": "x"}), failed(1), ok(2, {"sha256": "cd"})]
    summary = Summary("threads", 2, {"ok": 2, "failed": 1, "timed_out": 0, "cancelled": 0}, 1.5, 0.2, True)
    n = serialize.write_file(tmp_path / "r.csv", rows, ["sha256", "status"])
    assert n == 3
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as f:
        back = list(csv.DictReader(f))
    assert [r["index"] for r in back] == ["0", "1", "2"]
    # A value key that clashes with a record field stays in the value column, never over the status.
    assert back[0]["sha256"] == "ab" and json.loads(back[0]["value"]) == {"status": "x"}
    assert back[0]["status"] == "ok"
    assert back[1]["error_type"] == "ValueError" and back[1]["error"] == "ValueError: bad 1"
    assert back[1]["traceback"].startswith("Traceback")
    serialize.write_file(tmp_path / "r.json", rows, [], summary)
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["summary"]["counts"]["failed"] == 1
    assert [r["value"] for r in doc["results"]] == [rows[0].value, None, rows[2].value]
    assert doc["results"][1]["error"] == "ValueError: bad 1"


def test_export_never_fails_on_a_file_name_that_is_not_utf8(tmp_path):
    name = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 name: a lone surrogate in Python
    rows = [ok(0, {"n": 1})._replace(item=tmp_path / name)]
    for ext in ("csv", "json", "jsonl"):
        assert serialize.write_file(tmp_path / f"r.{ext}", rows) == 1
        text = (tmp_path / f"r.{ext}").read_text(encoding="utf-8").replace("\\\\", "\\")
        assert "caf\\xe9.txt" in text  # the undecodable byte shown as \xe9, as the terminal shows it


# -- folder scanning ---------------------------------------------------------------


def test_walk_recurses_filters_and_keeps_special_files_for_the_task_to_report(tmp_path):
    (tmp_path / "top" / "sub").mkdir(parents=True)
    (tmp_path / "top" / "a.PNG").write_bytes(b"1")
    (tmp_path / "top" / "sub" / "b.png").write_bytes(b"22")
    (tmp_path / "top" / "sub" / "c.txt").write_bytes(b"333")
    os.mkfifo(tmp_path / "top" / "pipe.png")
    os.symlink(tmp_path / "top" / "sub", tmp_path / "top" / "loop")  # not followed
    found = list(walk(str(tmp_path / "top"), parse_patterns("*.png")))
    assert [(os.path.basename(p), size, shown) for p, size, shown in found] == [
        ("a.PNG", 1, os.path.join("top", "a.PNG")),
        ("pipe.png", 0, os.path.join("top", "pipe.png")),  # the task fails it, clearly
        ("b.png", 2, os.path.join("top", "sub", "b.png")),
    ]
    assert len(list(walk(str(tmp_path / "top")))) == 4  # the symlinked folder is not followed


def test_parse_patterns():
    assert parse_patterns(" *.png; *.jpg,*.gif ") == ["*.png", "*.jpg", "*.gif"]
    assert parse_patterns("*") == [] and parse_patterns("") == []


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


def test_installed_qt_bindings_keep_their_references_to_none_and_true(qtbot):
    # PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void
    # method call (and to True on every emit): ~5,000 calls killed the process.
    # pyproject excludes that release; this catches any other that does it.
    import sys

    from PySide6.QtCore import QObject

    o = QObject()
    for _ in range(20_000):
        o.setObjectName("x")
        o.objectNameChanged.emit("x")
    assert sys.getrefcount(None) > 1_000 and sys.getrefcount(True) > 1_000
