"""The window's fixes seen while building the CPU views, each as it was reproduced."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QStyle

from poolside.gui.main_window import _version
from poolside.gui.theme import derive_hint_colors, hint_color
from poolside.gui.widgets.backend_panel import BackendPanel
from poolside.gui.workspaces.run.files_model import FilesModel
from poolside.gui.workspaces.run.progress_panel import ProgressPanel, output_folder, was_cancelled
from poolside.records import Outcome, Status, Summary
from poolside.spec import JobSpec
from poolside.words.runs import summary_line
from tests.gui_helpers import open_window

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    yield w
    if w.running:
        w.bridge.cancel()
        assert w.bridge.wait(timeout=60)
    w.run_ws.files.scanner.shutdown()


def cancelled_summary() -> Summary:
    s = Summary(backend="threads", workers=4, wall_s=4.21)
    s.counts.update(ok=4, cancelled=196)
    return s


def test_a_cancelled_run_shows_what_finished_and_a_rate_over_those_items(qtbot):
    # Reproduced: "200 items in 4.21 s, 47.5/s" and a full bar with 4 ok and 196 cancelled.
    from PySide6.QtGui import QAction

    panel = ProgressPanel(QAction("Run"), QAction("Cancel"))
    qtbot.addWidget(panel)
    panel.start(200, "Running")
    panel.finish(cancelled_summary(), cancelled=True, label="spin")
    assert panel.bar.value() == 4 and panel.bar.maximum() == 200
    text = panel.headline.text()
    assert "4 of 200 items finished" in text and "0.95/s" in text and "47.5" not in text
    line = summary_line(cancelled_summary(), cancelled=True)
    assert line.startswith("4 of 200 items finished (4 ok, 196 cancelled)") and "0.95/s" in line


def test_a_cancel_that_cancelled_nothing_reads_done():
    # Reproduced: Esc on a threads run whose items had all finished: "Cancelled", 200 ok / 0 cancelled.
    done = Summary(backend="threads", workers=4, wall_s=1.0)
    done.counts.update(ok=200)
    assert not was_cancelled(done, cancel_requested=True)
    assert was_cancelled(cancelled_summary(), cancel_requested=True)
    assert not was_cancelled(cancelled_summary(), cancel_requested=False)


def test_status_bar_says_timed_out_in_words():
    s = Summary(backend="processes", workers=2, wall_s=2.0)
    s.counts.update(ok=3, timed_out=1)
    assert "1 timed out" in summary_line(s) and "timed_out" not in summary_line(s)


def test_esc_after_the_last_item_leaves_the_headline_done(qtbot, window):
    # Reproduced on threads: Esc while the last items were finishing; all 200 ended ok.
    esc_pressed = threading.Event()
    threads = []

    def runner(task, items, *, on_outcomes, on_finish, **_options):
        def engine() -> None:
            esc_pressed.wait()  # the engine finishes every item regardless of the late cancel
            on_outcomes([Outcome(i, x, Status.OK, x, elapsed_s=0.001, worker=0, started_s=0.0)
                         for i, x in enumerate(items)])
            s = Summary(backend="threads", workers=1, wall_s=0.1, done=True)
            s.counts.update(ok=len(items))
            on_finish(s)

        threads.append(threading.Thread(target=engine))
        threads[-1].start()

        class Job:
            started = 0.0

            def cancel(self) -> None:
                pass

        return Job()

    window.bridge._runner = runner
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        assert window.run_ws.launch(JobSpec("numbers", backend="threads"), lambda x: x, list(range(200)), "numbers")
        qtbot.waitUntil(lambda: window.bridge.job is not None, timeout=WAIT_MS)
        window.run_ws.cancel_run()
        esc_pressed.set()
    for t in threads:
        t.join()
    assert window.bridge.cancel_requested
    headline = window.run_ws.progress.headline.text()
    assert "Done" in headline and "Cancelled" not in headline


def test_files_the_task_does_not_accept_are_hidden_kept_and_counted(qtbot, tmp_path):
    names = ["a.txt", "b.jpg", "c.md", "d.JPG"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    model = FilesModel()
    model.add_files([tmp_path / n for n in names])
    model.set_accepts(["*.txt", "*.md"])
    assert [os.path.basename(p) for p in model.paths()] == ["a.txt", "c.md"]  # what a run gets
    assert model.hidden_count == 2
    model.add_files([tmp_path / "b.jpg"])  # hidden, not added twice
    assert model.hidden_count == 2 and len(model) == 2
    model.set_accepts(["*.jpg"])
    assert [os.path.basename(p) for p in model.paths()] == ["b.jpg", "d.JPG"]
    model.set_accepts(())  # a task that takes any file: all back, in the order they were added
    assert [os.path.basename(p) for p in model.paths()] == names and model.hidden_count == 0


def test_switching_the_plugin_refilters_the_list_and_the_footer_says_so(qtbot, window, tmp_path):
    for n in ("a.txt", "photo.jpg"):
        (tmp_path / n).write_bytes(b"one two")
    assert window.run_ws.task.select("sha256")  # any file
    window.run_ws.files.add_paths([tmp_path / "a.txt", tmp_path / "photo.jpg"])
    assert len(window.run_ws.files.model) == 2
    assert window.run_ws.task.select("wordcount")  # text only: the JPEG must not run through it
    assert [os.path.basename(p) for p in window.run_ws.files.model.paths()] == ["a.txt"]
    assert "1 hidden" in window.run_ws.files.footer.text()
    assert window.run_ws.task.select("sha256")
    assert len(window.run_ws.files.model) == 2 and "hidden" not in window.run_ws.files.footer.text()


def test_the_output_folder_is_resolved_and_shown(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("hello", encoding="utf-8")
    assert window.run_ws.task.select("gzip")
    plugin = window.run_ws.task.current_plugin()
    assert output_folder(plugin, {}) == str(tmp_path / "poolside-out" / "gzip")
    assert output_folder(plugin, {"out": Path("elsewhere")}) == str(tmp_path / "elsewhere")
    window.run_ws.files.add_paths([tmp_path / "in.txt"])
    window.run_ws.backend.set_backend("threads")
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    assert window.run_ws.progress.output.isVisibleTo(window)
    assert str(tmp_path / "poolside-out" / "gzip") in window.run_ws.progress.output.text()
    assert "Open folder" in window.run_ws.progress.output.text()


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


def test_clear_forgets_the_last_runs_results(qtbot, window, tmp_path):
    (tmp_path / "a.txt").write_text("one two", encoding="utf-8")
    assert window.run_ws.task.select("wordcount")
    window.run_ws.files.add_paths([tmp_path / "a.txt"])
    window.run_ws.backend.set_backend("threads")
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    assert len(window.run_ws.results.model) == 1 and window.run_ws.timeline.shown == 1
    window.run_ws.files.clear_action.trigger()
    assert len(window.run_ws.results.model) == 0 and window.run_ws.timeline.shown == 0
    assert "Done" not in window.run_ws.progress.headline.text()


def test_about_names_the_version():
    from importlib.metadata import version

    assert _version() == version("poolside")


def test_hint_text_reads_on_a_dark_palette(qtbot):
    app = QApplication.instance()
    saved = app.palette()
    try:
        dark = QPalette(saved)
        for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed")):
            dark.setColor(role, QColor(color))
        dark.setColor(QPalette.ColorRole.PlaceholderText, QColor("#3a3a3a"))  # what a dark scheme may leave
        app.setPalette(dark)
        derive_hint_colors()
        hint = app.palette().color(QPalette.ColorRole.PlaceholderText)
        assert hint == hint_color(dark)
        assert hint.lightness() - QColor("#202124").lightness() > 90  # reads on the dark window
        assert QColor("#e8eaed").lightness() - hint.lightness() > 60  # and is still secondary
        label = QLabel("hint")
        label.setProperty("role", "hint")
        label.setStyleSheet('QLabel[role="hint"] { color: palette(placeholder-text); }')
        qtbot.addWidget(label)
        label.show()
        assert label.palette().color(QPalette.ColorRole.WindowText) == hint
    finally:
        app.setPalette(saved)


def test_results_columns_fit_at_1280x800_and_the_export_menu_opens_inside(qtbot, window):
    window.resize(1280, 800)
    window.run_ws.results.model.set_value_keys(["output", "action", "bytes_in", "bytes_out"])
    window.run_ws.results._size_columns()
    hh = window.run_ws.results.view.horizontalHeader()
    total = sum(hh.sectionSize(c) for c in range(hh.count()))
    bar = window.run_ws.results.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    assert total <= window.run_ws.results.view.viewport().width() - bar + 2 + (
        bar if window.run_ws.results.view.verticalScrollBar().isVisible() else 0)
    assert hh.sectionSize(2) > hh.sectionSize(3)  # the output path gets more room than a word
    menu = window.run_ws.results.export_button.menu()
    button = window.run_ws.results.export_button
    menu.popup(button.mapToGlobal(QPoint(0, button.height())))
    qtbot.waitUntil(menu.isVisible, timeout=WAIT_MS)
    right = window.mapToGlobal(window.rect().topRight()).x()
    assert menu.geometry().right() <= right
    menu.hide()


def test_export_timeline_writes_a_trace_of_the_run(qtbot, window, tmp_path):
    for i in range(6):
        (tmp_path / f"n{i}.txt").write_text("a b c\n", encoding="utf-8")
    assert window.run_ws.task.select("wordcount")
    window.run_ws.files.add_paths(sorted(tmp_path.glob("*.txt")))
    window.run_ws.backend.set_backend("threads")
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    path = tmp_path / "trace.json"
    assert window.run_ws.export_trace(str(path)) == 6
    events = json.loads(path.read_text(encoding="utf-8"))["traceEvents"]
    assert sum(e["ph"] == "X" for e in events) == 6
    assert any(e["ph"] == "C" for e in events) and any(e["ph"] == "M" for e in events)
    assert window.run_ws.export_trace_action.isEnabled()

