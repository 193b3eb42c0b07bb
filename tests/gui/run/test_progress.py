"""The progress panel and the status bar: what a finished, cancelled or timed-out run says."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt

from poolside.gui.workspaces.run.progress_panel import ProgressPanel, output_folder, was_cancelled
from poolside.records import Summary
from poolside.words.runs import summary_line
from tests import PLUGIN_FILES
from tests.waits import WAIT_MS

TASKS = PLUGIN_FILES / "host_tasks.py"


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


def test_esc_after_the_last_item_leaves_the_headline_done(qtbot, driver):
    # Reproduced on threads: Esc while the last items were finishing; all of them ended ok.
    # Through the shipped path: the window, its run host, the real engine.  Esc is pressed the
    # moment the last outcome reaches the window, before the run's end does.
    items = [f"n{i}" for i in range(200)]
    assert driver.load_plugin_file(TASKS)
    driver.choose_plugin("spin", seconds=0.0)
    driver.add_items(items)
    driver.choose_backend("threads", 4)
    pressed: list[bool] = []

    def press_escape_after_the_last(_batch: list) -> None:
        if len(driver.outcomes()) == len(items) and not pressed:
            pressed.append(driver.window.running)
            qtbot.keyClick(driver.window, Qt.Key.Key_Escape)

    driver.window.bridge.outcomesReady.connect(press_escape_after_the_last)
    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as blocker:
        assert driver.start_run()
    summary = blocker.args[0]

    assert pressed == [True] and driver.window.bridge.cancel_requested  # Esc came during the run
    assert summary.counts["ok"] == len(items) == len(driver.outcomes())
    headline = driver.headline()
    assert "Done" in headline and "Cancelled" not in headline


def test_the_output_folder_is_resolved_and_shown(qtbot, driver, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("hello", encoding="utf-8")
    driver.choose_plugin("gzip")
    plugin = driver.run_ws.task.current_plugin()
    assert output_folder(plugin, {}) == str(tmp_path / "poolside-out" / "gzip")
    assert output_folder(plugin, {"out": Path("elsewhere")}) == str(tmp_path / "elsewhere")
    driver.add_files([tmp_path / "in.txt"])
    driver.choose_backend("threads")
    driver.run_and_wait()
    assert driver.run_ws.progress.output.isVisibleTo(driver.window)
    assert str(tmp_path / "poolside-out" / "gzip") in driver.run_ws.progress.output.text()
    assert "Open folder" in driver.run_ws.progress.output.text()
