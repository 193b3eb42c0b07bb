"""One run, one peak memory: the CLI, the window, the history and the CPU views say the same figure.

The figure is measured where the job runs (``poolside.engine.sampler``, see
``poolside.proctree`` for what it is) and travels in the run's ``Insights``;
every reporter reads that, never a second measurement.  Real runs: the CLI
in this process, the window through its run host.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poolside.history import store
from poolside.history.series import get_series
from tests.waits import WAIT_MS

TASKS = str(Path(__file__).parent / "plugin_files" / "host_tasks.py")


def _files(folder: Path, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"n{i}").write_text("x", encoding="utf-8")
    return [str(folder / f"n{i}") for i in range(n)]


def _recorded(run_id: int) -> tuple[dict, dict | None]:
    """The history's row (its summary) and its stored CPU and memory series."""
    conn = store.connect()
    try:
        run = store.get_run(conn, run_id)
        assert run is not None
        return run["summary"], get_series(conn, run_id)
    finally:
        conn.close()


def _last_run_id() -> int:
    conn = store.connect()
    try:
        run_id = store.last_run_id(conn)
        assert run_id is not None
        return run_id
    finally:
        conn.close()


def test_the_cli_prints_writes_and_records_one_peak(tmp_path, capsys, monkeypatch):
    from poolside.cli import main
    from poolside.words.units import human_bytes

    monkeypatch.chdir(tmp_path)
    _files(tmp_path / "in", 4)
    out, trace = tmp_path / "records.jsonl", tmp_path / "trace.json"
    # 4 items of 0.15 s on 2 workers: long enough for the USS to be read too.
    assert main(["run", str(tmp_path / "in"), "-r", "-p", f"{TASKS}:spin", "--param", "seconds=0.15",
                 "-b", "processes", "-w", "2", "-q", "--insights", "-o", str(out), "--trace", str(trace)]) == 0
    err = capsys.readouterr().err
    written = json.loads((tmp_path / "records.summary.json").read_text())["insights"]
    peak = written["peak_rss_bytes"]
    assert peak > 0
    assert f"Peak memory {human_bytes(peak)} resident" in err  # what it printed
    summary, series = _recorded(_last_run_id())
    assert summary["insights"]["peak_rss_bytes"] == peak  # what the history keeps
    assert summary["insights"]["peak_uss_bytes"] == written["peak_uss_bytes"]
    assert series is not None and series["peak_memory"] == series["peak_rss"] == peak  # --trace's series
    assert series["peak_uss"] == (written["peak_uss_bytes"] or 0)


pytest.importorskip("PySide6")


@pytest.fixture
def window(qtbot, tmp_path):
    from tests.gui_helpers import open_window

    w = open_window(qtbot, tmp_path)
    yield w
    w.close()  # ends the run host too


def test_the_window_the_cores_panel_and_the_history_say_one_peak(qtbot, window, tmp_path):
    from poolside.words.units import human_bytes

    run = window.run_ws
    run.files.model.add((p, 1) for p in _files(tmp_path / "in", 4))
    assert run.task.load_plugin_file(TASKS) and run.task.select("spin")
    run.task.form.editor("seconds").setValue(0.15)
    run.backend.set_backend("processes")
    run.backend.workers.setValue(2)
    run.backend.chunk.setValue(1)
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        assert run.start_run()
    summary = blocker.args[0]
    assert summary.counts["ok"] == 4 and summary.insights is not None
    peak = summary.insights.peak_rss_bytes
    assert peak > 0
    # The window's Summary: the headline's insight sentences.
    assert f"Peak memory {human_bytes(peak)} resident" in run.progress.headline.text()
    # The CPU views: the monitor's run series, the Cores panel, the Workers view's headline.
    series = run.cpu_monitor.run_series()
    assert series["peak_memory"] == series["peak_rss"] == peak
    assert series["peak_uss"] == (summary.insights.peak_uss_bytes or 0)
    assert run.cores.peak_memory() == peak
    run.cores.tabs.setCurrentWidget(run.cores.workers)  # (drawn when shown)
    assert f"peak {human_bytes(peak)}" in run.cores.workers.headline_text()
    # The history: the run's row and the series stored with it (saved off the GUI thread).
    run_id = run.bridge.history_id
    assert run_id is not None
    assert run.series_store.wait(timeout=WAIT_MS / 1000)
    recorded, stored = _recorded(run_id)
    assert recorded["insights"]["peak_rss_bytes"] == peak
    assert stored is not None and stored["peak_memory"] == peak

