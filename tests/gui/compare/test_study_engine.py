"""The real window drives the real study engine in a study process, and History reopens the study.

Skipped where ``poolside.study`` is not part of this Poolside yet.  Small on
purpose: four text files, sequential and threads, two repeats.
"""

from __future__ import annotations

import psutil
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("poolside.study")
pytest.importorskip("poolside.history")


from poolside.resources import resource
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
    w.run_ws.files.shutdown()


def test_a_grid_study_fills_the_chart_and_reopens_from_history(qtbot, window):
    compare = window.compare_ws
    compare.form.set_grid(["sequential", "threads"], workers="2")
    compare.form.repeats.setValue(2)
    # Configurations the window had while the study had no record yet (its rounds). The chart
    # draws them in a later event-loop turn, which a study this small may not leave before its
    # end; test_gui_compare shows the live bars, here the rounds must reach the window.
    live: list[int] = []
    compare.study.configsChanged.connect(
        lambda: live.append(len(compare.study.configs())) if compare.study.record is None else None)
    with qtbot.waitSignal(compare.studyFinished, timeout=WAIT_MS) as blocker:
        assert compare.start_study()
    record = blocker.args[0]
    assert record is not None and not record.get("cancelled"), compare.line.text()
    assert max(live, default=0) >= 1, "numbers before the study finished"
    labels = compare.view.chart.labels()
    assert sorted(labels) == ["sequential", "threads ×2"]  # one bar per configuration measured
    assert compare.view.verdict.use_button.isEnabled()
    assert any(label in compare.view.verdict.text() for label in labels)

    history = window.history_ws
    studies = [history.model.entry(r) for r in range(history.model.rowCount())
               if history.model.entry(r)["kind"] == "study"]
    assert studies, "the study process recorded the study"
    history.select(studies[0]["id"])
    assert history.study_view.chart.labels() == labels
    assert history.study.record["configs"] == record["configs"]


def test_cancel_mid_study_leaves_no_process_behind(qtbot, window):
    compare = window.compare_ws
    compare.form.set_grid(["sequential", "threads", "processes"], workers="1, 2")
    compare.form.repeats.setValue(20)
    with qtbot.waitSignal(compare.study.progressChanged, timeout=WAIT_MS):
        assert compare.start_study()
    child = psutil.Process(compare.client._process.pid)
    tree = [child, *child.children(recursive=True)]  # the study process and the workers it started
    with qtbot.waitSignal(compare.studyFinished, timeout=WAIT_MS):
        compare.cancel_study()
    assert not compare.view.verdict.use_button.isEnabled()
    for p in tree:
        assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE, p


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
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        history.rerun_button.click()
    summary = blocker.args[0]
    assert summary.total == 1 and summary.counts["failed"] == 1  # only the failed item ran, and failed again
    assert [o.item for o in window.run_ws.results.model.outcomes()] == [str(folder / "bad.txt")]
