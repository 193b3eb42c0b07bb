"""The real window drives the real study engine in the study host, and History reopens the study.

Small on purpose: a few text files, two or three configurations, few repeats.
"""

from __future__ import annotations

import psutil
import pytest

pytest.importorskip("PySide6")

from poolside.proctree import descendants
from poolside.resources import resource
from poolside.study import StudyResult
from tests.gui_helpers import open_window

WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    texts = resource("samples", "texts")
    w.run_ws.files.add_paths([str(texts / name) for name in ("fable.txt", "haiku.txt", "notes.md")])
    assert w.run_ws.task.select("wordcount")
    yield w
    w.compare_ws.stop(timeout=60)
    w.compare_ws.shutdown()
    w.run_ws.files.shutdown()


def reopened(window) -> StudyResult:
    """The newest study in History, opened."""
    history = window.history_ws
    history.refresh()
    studies = [history.model.entry(r) for r in range(history.model.rowCount())
               if history.model.entry(r)["kind"] == "study"]
    assert studies, "the study host recorded the study"
    history.select(studies[0]["id"])
    assert history.study.record is not None
    return history.study.record


def test_a_grid_study_fills_the_chart_and_reopens_from_history(qtbot, window):
    compare = window.compare_ws
    compare.form.set_grid(["sequential", "threads"], workers="2")
    compare.form.repeats.setValue(2)
    # Configurations the window had while the study had no record yet (its rounds). The chart
    # draws them in a later event-loop turn, which a study this small may not leave before its
    # end; test_compare shows the live bars, here the rounds must reach the window.
    live: list[int] = []
    compare.study.configsChanged.connect(
        lambda: live.append(len(compare.study.configs())) if compare.study.record is None else None)
    with qtbot.waitSignal(compare.studyFinished, timeout=WAIT_MS) as blocker:
        assert compare.start_study()
    record = blocker.args[0]
    assert isinstance(record, StudyResult) and not record.cancelled, compare.line.text()
    assert compare.client.host.host_pid != psutil.Process().pid  # not in the window's process
    assert max(live, default=0) >= 1, "numbers before the study finished"
    labels = compare.view.chart.labels()
    assert sorted(labels) == ["sequential", "threads ×2"]  # one bar per configuration measured
    assert compare.view.verdict.use_button.isEnabled()
    assert any(label in compare.view.verdict.text() for label in labels)

    assert reopened(window).configs == record.configs  # the same numbers, through the history's JSON
    assert window.history_ws.study_view.chart.labels() == labels


def test_cancel_once_the_workers_exist_leaves_no_process_and_closing_ends_the_host(qtbot, window):
    compare = window.compare_ws
    compare.form.set_grid(["processes"], workers="2")
    compare.form.repeats.setValue(50)
    assert compare.start_study()
    host = compare.client.host
    qtbot.waitUntil(lambda: host.host_pid is not None and host.wait_ready(0), timeout=WAIT_MS)
    pid = host.host_pid

    def workers() -> list[psutil.Process]:
        return [p for p in descendants(pid) if p.pid not in host.helpers]

    qtbot.waitUntil(lambda: len(workers()) >= 2, timeout=WAIT_MS)  # the processes configuration's workers
    seen = workers()
    with qtbot.waitSignal(compare.studyFinished, timeout=WAIT_MS):
        compare.cancel_study()
    assert not compare.view.verdict.use_button.isEnabled() and "Cancelled" in compare.line.text()
    qtbot.waitUntil(lambda: not workers(), timeout=10_000)  # the host's tree: its zygote alone
    for p in seen:
        assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE, p
    host_process = psutil.Process(pid)
    window.close()
    host_process.wait(10)
    assert not psutil.pid_exists(pid) and host.host_pid is None


@pytest.fixture
def image_window(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    images = resource("samples", "images")
    w.run_ws.files.add_paths([str(images / name) for name in ("icon.png", "tiles.png")])
    yield w
    w.compare_ws.stop(timeout=60)
    w.compare_ws.shutdown()
    w.run_ws.files.shutdown()


def test_a_study_of_a_task_with_an_output_folder_appears_in_history(qtbot, image_window, tmp_path):
    window = image_window
    assert window.run_ws.task.select("thumbnail")
    window.run_ws.task.set_values({"out": str(tmp_path / "thumbs")})
    compare = window.compare_ws
    compare.form.set_grid(["sequential", "threads"], workers="2")
    compare.form.repeats.setValue(1)
    with qtbot.waitSignal(compare.studyFinished, timeout=WAIT_MS) as blocker:
        assert compare.start_study()
    record = blocker.args[0]
    assert record is not None and not record.cancelled, compare.line.text()
    assert "could not be kept" not in compare.line.text()
    assert reopened(window).plugin == "thumbnail"


def test_a_cli_run_with_failures_is_rerun_from_history(qtbot, window, tmp_path):
    from poolside.cli.main import main

    plugin = tmp_path / "checks.py"
    plugin.write_text("def check(path: str) -> dict:\n"
                      "    if 'bad' in str(path):\n        raise ValueError('bad name')\n"
                      "    return {'ok': True}\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("good1.txt", "bad.txt", "good2.txt"):
        (folder / name).write_text("x", encoding="utf-8")
    assert main(["run", str(folder), "--recursive", "-p", f"{plugin}:check", "-b", "threads"]) == 1

    history = window.history_ws
    history.refresh()
    runs = [history.model.entry(r) for r in range(history.model.rowCount()) if history.model.entry(r)["kind"] == "run"]
    assert len(runs) == 1
    history.select(runs[0]["id"])
    assert history.rerun_button.isEnabled() and not history.resume_button.isEnabled()
    asked: list[str] = []
    window.run_ws.task.ask_to_load = lambda path: asked.append(path) or True  # the file is new to the window
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        history.rerun_button.click()
    assert asked == [str(plugin)]
    summary = blocker.args[0]
    assert summary.total == 1 and summary.counts["failed"] == 1  # only the failed item ran, and failed again
    assert [o.item for o in window.run_ws.results.model.outcomes()] == [str(folder / "bad.txt")]
