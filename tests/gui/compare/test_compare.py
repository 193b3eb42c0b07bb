"""The Compare workspace: a study's chart, table, scaling and verdict, driven through a fake study client.

The fake plays the study's part in the test's own thread, so nothing waits; its
records are real studies' (``tests/study_fakes.py``).  The real study host is
driven end to end in ``test_study_host_window.py``.
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from poolside.gui.main_window import MainWindow
from poolside.gui.workspaces.compare.form import GridError, parse_ints
from poolside.study import Config
from poolside.words.configs import config_label

from ... import study_fakes
from ...study_fakes import FakeStudyClient, progress


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
    assert plan.mode == "auto" and plan.spec.plugin == "wordcount" and len(plan.spec.paths) == 1
    assert not compare.start_button.isEnabled() and compare.cancel_button.isEnabled()

    record = study_fakes.study()
    client.progress(progress(Config("threads", 2), repeat=1, done=2, total=8))
    client.progress(progress(Config("processes", 2), repeat=2, done=3, total=8))  # a burst: the newest is shown
    qtbot.waitUntil(lambda: "processes ×2" in compare.line.text())
    assert "repeat 2 of 3" in compare.line.text() and compare.bar.value() == 3
    client.play(record)

    view = compare.view
    best = record.recommendation
    assert best is not None and record.diagnosis is not None
    assert view.chart.bar_count == len(record.configs)  # one bar per configuration
    assert view.chart.labels() == [config_label(c.config) for c in sorted(record.configs, key=lambda c: -c.speedup)]
    assert view.table_model.rowCount() == len(record.configs)
    assert set(view.chart.families()) == {"sequential", "threads", "processes", "pools"}
    assert config_label(best.config) in view.verdict.text() and record.diagnosis.kind in view.verdict.text()
    assert "baseline cpu ratio" in view.verdict.diagnosis.toolTip()  # the evidence, on demand
    assert ("Not significant" in view.verdict.text()) is not record.significant
    assert sorted(view.scaling.series) == ["mp-pool", "processes", "threads"]  # workers varied for these

    run = window.run_ws.backend
    run.apply(backend="threads", workers=7, chunk_size=3)
    pool = Config("mp-pool", 2, 8, "imap")
    compare.study.finish(dataclasses.replace(record, recommendation=dataclasses.replace(best, config=pool)))
    view.verdict.use_button.click()
    assert run.spec_fields() | {"timeout": None, "ordered": False} == {
        "backend": "mp-pool", "workers": 2, "chunk_size": 8, "method": "imap", "timeout": None, "ordered": False}
    assert window.tabs.currentWidget() is window.run_ws
    assert compare.start_button.isEnabled() and not compare.cancel_button.isEnabled()
    capped = Config("processes", 2, library_threads=1)  # an already-parallel task's pick
    compare.study.finish(dataclasses.replace(record, recommendation=dataclasses.replace(best, config=capped)))
    view.verdict.use_button.click()
    assert run.spec_fields()["library_threads"] == 1 and run.spec_fields()["backend"] == "processes"


def test_a_progress_line_still_to_show_at_the_end_does_not_hide_how_the_study_ended(qtbot, window, client):
    from PySide6.QtWidgets import QApplication

    compare = window.compare_ws
    assert compare.start_study()
    client.progress(progress(Config("processes", 2), repeat=3, done=7, total=8))  # shown in the next turn ...
    client.finish(study_fakes.study())  # ... which comes after the end
    for _ in range(3):
        QApplication.processEvents()
    assert compare.line.text().startswith("Done") and compare.bar.value() == compare.bar.maximum()


def test_a_study_the_history_could_not_keep_says_so_on_the_status_line(window, client):
    compare = window.compare_ws
    assert compare.start_study()
    client.finish(study_fakes.study(), history_error="HistoryError: the disk is full")
    assert compare.line.text().startswith("Done")
    assert "could not be kept in the History: HistoryError: the disk is full" in compare.line.text()


def test_within_noise_the_verdict_says_not_significant(window, client):
    window.compare_ws.start_study()
    client.play(study_fakes.study("grid_tie"))
    view = window.compare_ws.view
    assert "Not significant" in view.verdict.text()
    assert view.scaling.series == {} and view.scaling_box.isHidden()


def test_cancel_mid_study_keeps_what_was_measured_and_gives_no_verdict(window, client):
    compare = window.compare_ws
    assert compare.start_study() and window.running
    first = study_fakes.rounds(study_fakes.study())[0]
    client.round(first)
    compare.cancel_study()
    assert client.cancels == 1 and "Cancelling" in compare.line.text()
    compare.cancel_study()
    assert client.cancels == 1  # asked once
    client.finish(None)
    assert not window.running and compare.start_button.isEnabled()
    assert compare.view.chart.bar_count == len(first.configs)
    assert not compare.view.verdict.use_button.isEnabled() and "cancelled" in compare.view.verdict.text()


def test_a_study_needs_the_run_tabs_job_and_a_grid_that_parses(qtbot, tmp_path, client, window):
    compare = window.compare_ws
    compare.form.set_grid(["threads", "processes"], workers="1, two")
    assert not compare.start_study() and "Workers" in compare.line.text() and client.plans == []
    compare.form.set_grid(["threads", "processes"], workers="1, 2, 2", chunks="auto, 64", methods="")
    assert compare.start_study()
    plan = client.plans[0]
    assert (plan.backends, plan.workers, plan.chunk_sizes, plan.methods) == (
        ("threads", "processes"), (1, 2), ("auto", 64), (None,))
    with pytest.raises(GridError):
        parse_ints("0", "Workers")


def test_any_configuration_opens_with_its_numbers(window, client):
    window.compare_ws.start_study()
    client.play(study_fakes.study())
    view = window.compare_ws.view
    cfg = view.table_model.config(0)
    dialog = view.open_config(cfg, show=False)
    assert config_label(cfg.config) in dialog.windowTitle()
    lo, hi = cfg.speedup_range()
    assert lo <= cfg.speedup <= hi


def test_a_task_with_side_effects_is_compared_only_when_confirmed(window, client):
    from types import SimpleNamespace

    compare = window.compare_ws
    plugin = window.run_ws.plugin()
    window.run_ws.plugin = lambda: SimpleNamespace(name=plugin.name, side_effects="downloads every URL")
    asked: list[str] = []
    compare.confirm_side_effects = lambda name, effects: asked.append(effects) or False
    assert not compare.start_study() and client.plans == [] and "not confirmed" in compare.line.text()
    compare.confirm_side_effects = lambda name, effects: True
    assert compare.start_study() and client.plans[0].allow_side_effects is True
    assert asked == ["downloads every URL"]


def _speedups(configs) -> dict[str, float]:
    return {config_label(c.config): round(c.speedup, 6) for c in configs}


def test_the_chart_and_table_fill_in_round_by_round_and_the_record_replaces_them(qtbot, window, client):
    compare, view = window.compare_ws, window.compare_ws.view
    assert compare.start_study()
    record = study_fakes.study()
    resets: list = []
    view.table_model.modelReset.connect(lambda: resets.append(1))
    for partial in study_fakes.rounds(record)[:2]:
        client.round(partial)
        qtbot.waitUntil(lambda p=partial: _speedups(view.chart._configs) == _speedups(p.configs))
        assert view.chart.bar_count == len(record.configs)  # bars before the study ends
        assert view.table_model.rowCount() == len(record.configs)
        assert len(view.table_model.config(0).runs) == partial.round and window.running
    assert len(resets) == 1  # the first round adds the rows; later rounds update them in place
    client.finish(record)
    assert not window.running
    assert _speedups(view.chart._configs) == _speedups(record.configs)  # the final record replaces the partial bars
    rows = range(view.table_model.rowCount())
    assert [len(view.table_model.config(r).runs) for r in rows] == [record.repeats] * len(record.configs)


def test_the_memory_limit_goes_to_the_plan_and_a_bad_one_says_why(window, client):
    compare = window.compare_ws
    compare.form.max_memory.setText("2 GBs")
    assert not compare.start_study() and "Memory limit: '2 GBs' is not a size" in compare.line.text()
    compare.form.max_memory.setText("1.5GiB")
    assert compare.start_study()
    assert client.plans[0].max_memory == 1536 * 2**20
    assert client.plans[0].to_dict()["max_memory"] == 1536 * 2**20


def test_copy_as_code_puts_the_winner_as_a_script_on_the_clipboard(qtbot, window, client, tmp_path):
    import json
    import subprocess
    import sys

    from PySide6.QtWidgets import QApplication

    compare = window.compare_ws
    verdict = compare.view.verdict
    assert not verdict.code_button.isHidden() and not verdict.code_button.isEnabled()
    assert window.history_ws.study_view.verdict.code_button.isHidden()  # History has no job at hand
    assert compare.start_study()
    record = study_fakes.study()
    client.finish(record)
    assert record.recommendation is not None and verdict.code_button.isEnabled()
    verdict.code_button.click()
    script = QApplication.clipboard().text()
    assert script.startswith('"""wordcount over 1 items on ' + config_label(record.recommendation.config))
    assert "Copied a script" in compare.line.text()
    path = tmp_path / "winner.py"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    (line,) = [json.loads(text) for text in done.stdout.splitlines()]
    assert line["item"].endswith("note.txt") and line["value"]["words"] == 2
def test_the_verdict_forecasts_the_whole_job_and_answers_what_if(window, client):
    from poolside.words.study import forecast_sentence, prediction_sentence

    record = study_fakes.study()
    model = record.scaling.get("model")
    assert record.forecast is not None and model is not None  # make.py's studies varied the workers
    window.compare_ws.start_study()
    client.play(record)
    verdict = window.compare_ws.view.verdict
    assert f"Whole job: <b>{forecast_sentence(record.forecast)}</b>" in verdict.text()
    assert "Universal Scalability Law" in verdict.what_if_result.toolTip()
    assert "from 24 items measured at" in verdict.forecast.toolTip()
    assert verdict.what_if_row.isVisibleTo(verdict) and verdict.what_if.accessibleName() == "What if workers"
    verdict.what_if.setValue(32)
    from poolside.study.scaling import UslFit

    expected = prediction_sentence(UslFit.from_dict(model).predict(32))
    assert verdict.what_if_result.text().startswith(expected[:1].upper() + expected[1:])
    assert "Predicted: " in verdict.what_if_result.text() and "×32" in verdict.what_if_result.text()
    window.compare_ws.start_study()
    client.play(study_fakes.study("grid_tie"))  # one worker count: no model, no "what if"
    assert not verdict.what_if_row.isVisibleTo(verdict) and "Predicted" not in verdict.text()
