"""The Compare workspace: a study's chart, table, scaling and verdict, driven through a fake study client.

The fake plays the study's part in the test's own thread, so nothing waits; one
test runs the real process client with a scripted child to show a study runs
outside the window's process and leaves no process behind.
"""

from __future__ import annotations

import psutil
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from poolside.gui.main_window import MainWindow
from poolside.gui.study.record import config_label, speedup_range
from poolside.gui.workspaces.compare.client import ProcessStudyClient
from poolside.gui.workspaces.compare.form import GridError, parse_ints

from ... import study_fakes
from ...study_fakes import FakeStudyClient


@pytest.fixture
def client():
    return FakeStudyClient()


@pytest.fixture
def window(qtbot, tmp_path, client):
    w = MainWindow(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat), study_client=client)
    w.confirm_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    note = tmp_path / "note.txt"
    note.write_text("one two\n", encoding="utf-8")
    w.run_ws.files.add_paths([note])
    assert w.run_ws.task.select("wordcount")
    yield w
    w.run_ws.files.shutdown()


def test_a_study_fills_the_chart_and_the_verdict_and_use_these_settings_sets_the_run_tab(qtbot, window, client):
    compare = window.compare_ws
    window.tabs.setCurrentWidget(compare)
    assert compare.start_study()
    plan = client.plans[0]
    assert plan["mode"] == "auto" and plan["spec"]["plugin"] == "wordcount" and len(plan["spec"]["paths"]) == 1
    assert not compare.start_button.isEnabled() and compare.cancel_button.isEnabled()

    record = study_fakes.study()
    client.progress("threads ×2", 1, 2, 8)
    client.progress("processes ×2", 2, 3, 8)  # a burst: the newest is shown, in the next event-loop turn
    qtbot.waitUntil(lambda: "processes ×2" in compare.line.text())
    assert "repeat 2 of 3" in compare.line.text() and compare.bar.value() == 3
    client.play(record)

    view = compare.view
    assert view.chart.bar_count == len(record["configs"])  # one bar per configuration
    assert view.chart.labels()[0] == "processes ×2"  # sorted, fastest first
    assert view.table_model.rowCount() == len(record["configs"])
    assert set(view.chart.families()) == {"sequential", "threads", "processes", "pools"}
    assert "processes ×2" in view.verdict.text() and "cpu-gil" in view.verdict.text()
    assert "cpu per wall: 0.99" in view.verdict.diagnosis.toolTip()  # the evidence, on demand
    assert "Not significant" not in view.verdict.text()
    assert sorted(view.scaling.series) == ["processes", "threads"]  # workers varied for these two

    run = window.run_ws.backend
    run.apply(backend="threads", workers=7, chunk_size=3)
    record["recommendation"].update(backend="mp-pool", chunk_size=8, method="imap")
    compare.study.finish(record)  # a recommendation with every field set
    view.verdict.use_button.click()
    assert run.spec_fields() | {"timeout": None, "ordered": False} == {
        "backend": "mp-pool", "workers": 2, "chunk_size": 8, "method": "imap", "timeout": None, "ordered": False}
    assert window.tabs.currentWidget() is window.run_ws
    assert compare.start_button.isEnabled() and not compare.cancel_button.isEnabled()


def test_a_progress_line_still_to_show_at_the_end_does_not_hide_how_the_study_ended(qtbot, window, client):
    from PySide6.QtWidgets import QApplication

    compare = window.compare_ws
    assert compare.start_study()
    client.progress("processes ×2", 3, 7, 8)  # shown in the next turn ...
    client.finish(study_fakes.study())  # ... which comes after the end
    for _ in range(3):
        QApplication.processEvents()
    assert compare.line.text().startswith("Done") and compare.bar.value() == compare.bar.maximum()


def test_within_noise_the_verdict_says_not_significant(window, client):
    window.compare_ws.start_study()
    client.play(study_fakes.study(significant=False, vary_workers=False))
    view = window.compare_ws.view
    assert "Not significant" in view.verdict.text()
    assert view.scaling.series == {} and view.scaling_box.isHidden()


def test_cancel_mid_study_keeps_what_was_measured_and_gives_no_verdict(window, client):
    compare = window.compare_ws
    assert compare.start_study() and window.running
    record = study_fakes.study()
    for cfg in record["configs"][:3]:
        client.result(cfg)
    compare.cancel_study()
    assert client.cancels == 1 and "Cancelling" in compare.line.text()
    compare.cancel_study()
    assert client.cancels == 1  # asked once
    client.finish(None)
    assert not window.running and compare.start_button.isEnabled()
    assert compare.view.chart.bar_count == 3
    assert not compare.view.verdict.use_button.isEnabled() and "cancelled" in compare.view.verdict.text()


def test_a_study_needs_the_run_tabs_job_and_a_grid_that_parses(qtbot, tmp_path, client, window):
    compare = window.compare_ws
    compare.form.set_grid(["threads", "processes"], workers="1, two")
    assert not compare.start_study() and "Workers" in compare.line.text() and client.plans == []
    compare.form.set_grid(["threads", "processes"], workers="1, 2, 2", chunks="auto, 64", methods="")
    assert compare.start_study()
    plan = client.plans[0]
    assert (plan["backends"], plan["workers"], plan["chunk_sizes"], plan["methods"]) == (
        ["threads", "processes"], [1, 2], ["auto", 64], [None])
    with pytest.raises(GridError):
        parse_ints("0", "Workers")


def test_any_configuration_opens_with_its_numbers_and_timeline(window, client):
    window.compare_ws.start_study()
    client.play(study_fakes.study())
    view = window.compare_ws.view
    cfg = view.table_model.config(0)
    dialog = view.open_config(cfg, show=False)
    assert config_label(cfg) in dialog.windowTitle()
    assert dialog.timeline is not None and dialog.timeline.shown == len(cfg["timeline"])
    lo, hi = speedup_range(cfg)
    assert lo < cfg["speedup"] < hi


def test_the_process_client_runs_the_study_in_another_process(qtbot):
    client = ProcessStudyClient(target=study_fakes.scripted_study, interval_ms=5)
    seen: dict[str, list] = {"progress": [], "result": [], "finished": []}
    client.start({"mode": "auto"}, seen["progress"].append, seen["result"].append,
                 lambda record, error: seen["finished"].append((record, error)))
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=60_000)
    record, error = seen["finished"][0]
    assert error is None and record["plan_mode"] == "auto"
    assert record["configs"] == study_fakes.study(vary_workers=False)["configs"]  # sent in parts, put together
    assert record["pid"] != psutil.Process().pid  # not in the window's process
    assert len(seen["result"]) == 2 and len(seen["progress"]) == 2
    assert not client.running and not psutil.pid_exists(record["pid"])


def test_the_process_client_cancels_and_leaves_no_process(qtbot):
    client = ProcessStudyClient(target=study_fakes.waiting_study, interval_ms=5)
    seen: dict[str, list] = {"progress": [], "result": [], "finished": []}
    client.start({"mode": "auto"}, seen["progress"].append, seen["result"].append,
                 lambda record, error: seen["finished"].append((record, error)))
    qtbot.waitUntil(lambda: bool(seen["progress"]), timeout=60_000)
    child = seen["progress"][0]["repeat"]  # the child's pid, reported by the script
    client.cancel()
    qtbot.waitUntil(lambda: bool(seen["finished"]), timeout=60_000)
    assert seen["finished"] == [(None, None)] and not client.running
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_a_final_record_crosses_to_the_window_one_configuration_a_message():
    import pickle

    from poolside.gui.workspaces.compare.study_process import RecordInParts

    sent: list = []
    queue = type("Queue", (), {"put": lambda self, event: sent.append(event)})()
    record = study_fakes.study()
    RecordInParts(queue).put(("progress", {"done": 1}))
    RecordInParts(queue).put(("finished", record, None))
    RecordInParts(queue).put(("finished", None, "why"))
    configs = record["configs"]
    assert sent[0] == ("progress", {"done": 1}) and sent[-1] == ("finished", None, "why")
    assert sent[1:-2] == [("record-config", c) for c in configs]  # each unpickled on its own
    assert sent[-2] == ("finished", {**record, "configs": None}, None, len(configs))
    biggest = max(len(pickle.dumps(event)) for event in sent)
    assert biggest < len(pickle.dumps(record)) / 4


def test_an_event_whose_reading_takes_the_whole_turn_is_handed_over_in_the_next(qtbot):
    client = ProcessStudyClient(target=study_fakes.scripted_study, interval_ms=5)
    client.TICK_BUDGET_S = 0.0  # every read uses up its turn: each event waits for the next one
    seen: list = []
    client.start({"mode": "auto"}, lambda p: seen.append("progress"), lambda c: seen.append("result"),
                 lambda record, error: seen.append(("finished", record is not None, error)))
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "finished", timeout=60_000)
    # All of them, in order; and the study process, gone before its last event was handed
    # over, did not end the study as "ended unexpectedly".
    assert seen == ["progress", "result", "progress", "result", ("finished", True, None)]
    assert not client.running


def test_a_study_process_that_cannot_start_says_why(qtbot):
    client = ProcessStudyClient(target=lambda plan, events, cancel: None, interval_ms=5)  # cannot be pickled
    finished: list = []
    client.start({"mode": "auto"}, print, print, lambda record, error: finished.append((record, error)))
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    record, error = finished[0]
    assert record is None and error.startswith("could not start the study process")
    assert not client.running


def test_a_task_with_side_effects_is_compared_only_when_confirmed(window, client):
    from types import SimpleNamespace

    compare = window.compare_ws
    plugin = window.run_ws.plugin()
    window.run_ws.plugin = lambda: SimpleNamespace(name=plugin.name, side_effects="downloads every URL")
    asked: list[str] = []
    compare.confirm_side_effects = lambda name, effects: asked.append(effects) or False
    assert not compare.start_study() and client.plans == [] and "not confirmed" in compare.line.text()
    compare.confirm_side_effects = lambda name, effects: True
    assert compare.start_study() and client.plans[0]["allow_side_effects"] is True
    assert asked == ["downloads every URL"]


def _so_far(cfg: dict, n: int, base_median: float) -> dict:
    """A configuration's record after ``n`` rounds (what the study's on_round sends)."""
    walls = sorted(cfg["wall_s"][:n])
    median = walls[len(walls) // 2]
    return {**cfg, "wall_s": walls, "median_s": median, "min_s": walls[0], "max_s": walls[-1],
            "speedup": base_median / median, "efficiency": base_median / median / cfg["workers"]}


def _speedups(chart) -> dict[str, float]:
    return {config_label(c): round(float(c["speedup"]), 6) for c in chart._configs}


def test_the_chart_and_table_fill_in_round_by_round_and_the_record_replaces_them(qtbot, window, client):
    compare, view = window.compare_ws, window.compare_ws.view
    assert compare.start_study()
    record = study_fakes.study()
    resets: list = []
    view.table_model.modelReset.connect(lambda: resets.append(1))
    for n in (1, 2):
        base = record["configs"][0]["wall_s"][0] if n == 1 else sorted(record["configs"][0]["wall_s"][:2])[1]
        partial = [_so_far(c, n, base) for c in record["configs"]]
        client.round(n, partial)
        qtbot.waitUntil(lambda p=partial: _speedups(view.chart) == _speedups_of(p))
        assert view.chart.bar_count == len(record["configs"])  # bars before the study ends
        assert view.table_model.rowCount() == len(record["configs"])
        top = view.table_model.config(0)
        assert len(top["wall_s"]) == n and window.running
    assert len(resets) == 1  # the first round adds the rows; later rounds update them in place
    client.finish(record)
    assert not window.running
    assert _speedups(view.chart) == _speedups_of(record["configs"])  # the final record replaces the partial bars
    assert [len(view.table_model.config(r)["wall_s"]) for r in range(view.table_model.rowCount())] == [3] * 8


def _speedups_of(configs) -> dict[str, float]:
    return {config_label(c): round(float(c["speedup"]), 6) for c in configs}
