"""The History workspace over a fake history: lists, reopens, compares, resumes, exports; and notifications."""

from __future__ import annotations

import csv
import io
import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from poolside.gui.main_window import MainWindow
from poolside.gui.notify import LONG_S, Notifier
from poolside.gui.workspaces.base import Workspace
from poolside.study import StudyResult
from poolside.words.configs import config_label
from tests.gui_helpers import WindowDriver
from tests.waits import WAIT_MS, WAIT_S

from ... import study_fakes
from ...study_fakes import FakeHistory, FakeStudyClient, run_record


@pytest.fixture
def driver(qtbot, window):
    """The Run tab of this module's window (its history and study client are fakes)."""
    return WindowDriver(qtbot, window)


@pytest.fixture
def files(tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"note{i}.txt"
        p.write_text("one two three\n" * (i + 1), encoding="utf-8")
        paths.append(str(p))
    return paths


@pytest.fixture
def history(files):
    h = FakeHistory()
    h.add_study("s1", study_fakes.study(), started=2_000.0)
    h.add_run("r1", run_record("wordcount", files, wall=2.0, started=1_000.0))
    h.add_run("r2", run_record("wordcount", files, backend="processes", wall=1.0, started=3_000.0,
                               status="interrupted", pending=files[1:]))
    h.add_run("r3", run_record("sha256", files, wall=0.5, started=4_000.0, failed=files[:1]))
    return h


@pytest.fixture
def client():
    return FakeStudyClient()


@pytest.fixture
def window(qtbot, tmp_path, history, client):
    w = MainWindow(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat), study_client=client,
                   history=history)
    w.confirm_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.run_ws.running:
        w.bridge.cancel()
        assert w.bridge.wait(timeout=WAIT_S)
    w.run_ws.files.shutdown()


def table_texts(model) -> list[list[str]]:
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_lists_newest_first_and_filters_by_task(window):
    h = window.history_ws
    assert [h.model.entry(r)["id"] for r in range(h.model.rowCount())] == ["r3", "r2", "s1", "r1"]
    h.plugin_filter.setCurrentText("sha256")
    assert [h.model.entry(r)["id"] for r in range(h.model.rowCount())] == ["r3"]
    h.plugin_filter.setCurrentText("All tasks")
    assert h.model.rowCount() == 4


def test_a_study_from_the_compare_tab_reopens_in_history_with_the_same_numbers(window, driver, client, history):
    driver.add_files(history.runs["r1"]["spec"]["paths"])
    driver.choose_plugin("wordcount")
    assert window.compare_ws.start_study()
    record = study_fakes.study("grid_tie")
    for partial in study_fakes.rounds(record):
        client.round(partial)
    history.add_study("s2", record, started=9_000.0)  # the study host records it, then reports the end
    client.finish(record)
    shown = table_texts(window.compare_ws.view.table_model)

    h = window.history_ws
    window.tabs.setCurrentWidget(h)
    assert h.model.entry(0)["id"] == "s2"  # read when the tab came into view
    h.select("s2")
    assert h.pages.currentWidget() is h.study_view
    assert table_texts(h.study_view.table_model) == shown
    assert h.study_view.chart.labels() == window.compare_ws.view.chart.labels()
    assert record.recommendation is not None and record.recommendation.why in h.study_view.verdict.text()
    assert h.export_button.isEnabled() and not h.resume_button.isEnabled()


def test_two_runs_side_by_side(window):
    h = window.history_ws
    h.select("r1", "r2")
    assert h.pages.currentWidget() is h.runs_page
    assert h.runs.columnCount() == 2
    assert h.runs.cell_text("Speed-up", 1).startswith("2.00×")  # 2 s then 1 s
    assert h.runs.cell_text("Backend", 1) == "processes ×2"
    assert h.runs.cell_text("Busy fraction", 0) == "0.8"


def test_resume_runs_only_the_pending_items(qtbot, window, driver, files):
    h = window.history_ws
    h.select("r2")
    assert h.resume_button.isEnabled() and not h.rerun_button.isEnabled()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        h.resume_button.click()
    summary = blocker.args[0]
    assert window.tabs.currentWidget() is window.run_ws
    assert summary.total == 2 and summary.counts["ok"] == 2 and summary.backend == "processes"
    assert sorted(o.item for o in driver.outcomes()) == files[1:]


def test_rerun_failed_runs_the_failed_items_with_the_same_task(qtbot, window, driver, files):
    h = window.history_ws
    h.select("r3")
    assert h.rerun_button.isEnabled() and not h.resume_button.isEnabled()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        h.rerun_button.click()
    assert blocker.args[0].total == 1
    assert [o.item for o in driver.outcomes()] == files[:1]
    assert window.run_ws.task.current_plugin().name == "sha256"


def test_export_a_study_as_json_csv_and_markdown(window, history, tmp_path):
    h = window.history_ws
    assert not h.export_study(str(tmp_path / "none.json"))  # nothing open yet
    h.select("s1")
    record = history.studies["s1"]
    assert h.export_study(str(tmp_path / "s.json"))
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8")) == record
    assert h.export_study(str(tmp_path / "s.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8"))))
    best = StudyResult.from_dict(record).recommendation
    assert best is not None
    assert len(rows) == len(record["configs"]) and rows[0]["backend"] == best.config.backend  # fastest first
    assert rows[0]["workers"] == str(best.config.workers)
    assert h.export_study(str(tmp_path / "s.md"))
    md = (tmp_path / "s.md").read_text(encoding="utf-8")
    label = config_label(best.config)
    assert f"| {label} |" in md and f"**Verdict:** use {label}" in md and record["diagnosis"]["kind"] in md
    assert not h.export_study(str(tmp_path / "s.txt"))


def test_a_long_run_notifies_the_desktop_only_when_the_window_is_behind(qtbot):
    now = [0.0]
    shown: list[tuple[str, str]] = []
    active = [False]

    class Window(Workspace):
        def isActiveWindow(self) -> bool:
            return active[0]

    window = Window()
    qtbot.addWidget(window)
    ws = Workspace(window)
    ws.title = "Run"
    notifier = Notifier(window, clock=lambda: now[0], show=lambda title, text: shown.append((title, text)))
    notifier.watch(ws)

    def job(seconds: float) -> None:
        ws.busyChanged.emit(True)
        now[0] += seconds
        ws.busyChanged.emit(False)

    job(LONG_S - 1)
    assert shown == []  # short: still on the person's mind
    active[0] = True
    job(LONG_S + 1)
    assert shown == []  # the window is in front
    active[0] = False
    job(LONG_S + 1)
    assert shown == [("Poolside: Run finished", "Run finished.")]


def test_without_a_history_the_tab_says_so(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat), history=None,
                   study_client=FakeStudyClient())
    qtbot.addWidget(w)
    assert w.history_ws.model.rowCount() == 0
    assert "No history yet" in w.history_ws.note.text()
    assert w.history_ws.pages.currentWidget() is w.history_ws.note
    w.run_ws.files.shutdown()


def test_use_these_settings_from_a_reopened_study_sets_the_run_tab(window):
    h = window.history_ws
    h.select("s1")
    h.study_view.verdict.use_button.click()
    assert window.tabs.currentWidget() is window.run_ws
    fields = window.run_ws.backend.spec_fields()
    best = study_fakes.study().recommendation
    assert best is not None
    assert (fields["backend"], fields["workers"], fields["chunk_size"]) == (
        best.config.backend, best.config.workers, best.config.chunk_size)
