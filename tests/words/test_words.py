"""poolside.words: the one vocabulary for people, and that it is the only one.

The insight sentences read a real run's ``Insights``; the variations are that
record with a field changed (``Record.replace``), never a hand-made one.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import poolside
from poolside.backends import backend_names
from poolside.history import RunRecorder, store
from poolside.records import STATUS_ORDER, Summary
from poolside.spec import JobSpec
from poolside.study.plan import Config
from poolside.words import units
from poolside.words.configs import FAMILY_COLORS, UNKNOWN_FAMILY, config_label, family, family_color
from poolside.words.runs import RUN_STATES, insight_sentences, run_state, summary_line

ROOT = Path(__file__).resolve().parents[2]


# -- configurations ----------------------------------------------------------------


def test_a_configuration_reads_the_same_from_a_record_a_dict_and_a_summary():
    config = Config("mp-pool", 4, 64, "imap")
    assert config_label(config) == config_label(config.to_dict()) == "mp-pool ×4 · imap · chunk 64"
    assert config_label(Config("processes", 4)) == "processes ×4"
    assert config_label(Config("sequential", 1, 8)) == "sequential"
    assert config_label(Summary(backend="threads", workers=8)) == "threads ×8"


EXPECTED_FAMILIES = {
    "sequential": "sequential", "threads": "threads", "processes": "processes",
    "process-executor": "pools", "thread-executor": "pools", "mp-pool": "pools", "mp-thread-pool": "pools",
    "thread-per-item": "per-item", "process-per-item": "per-item",
    "joblib": "joblib", "asyncio": "asyncio", "dask": "cluster",
}


@pytest.mark.parametrize("name", backend_names())
def test_every_registered_backend_has_its_family_and_a_colour(name):
    assert family(name) == EXPECTED_FAMILIES[name]
    assert family_color(name) == FAMILY_COLORS[family(name)]


def test_joblib_is_its_own_family_and_dask_the_cluster():
    assert family("joblib") == "joblib" != family("dask") == "cluster"
    assert family_color("joblib") != family_color("dask")
    assert family("a-backend-from-another-poolside") == UNKNOWN_FAMILY
    assert set(EXPECTED_FAMILIES) == set(backend_names())  # a new backend gets a row above
    assert set(EXPECTED_FAMILIES.values()) == set(FAMILY_COLORS)  # no colour for a family nothing has


# -- a run in words -------------------------------------------------------------------


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


@pytest.fixture(scope="module")
def real_run():
    job = poolside.run(_spin, [2_000] * 40, backend="threads", workers=2, chunk_size=4)
    job.wait()
    assert job.summary.insights is not None
    return job.summary


def test_a_real_runs_insights_read_as_sentences(real_run):
    ins = real_run.insights
    said = insight_sentences(ins)
    assert said and all(s[:1].isupper() and s.endswith(".") for s in said)
    assert any("Peak memory" in s and "resident (RSS)" in s for s in said)
    detail = insight_sentences(ins, detail=True)
    assert detail[: len(said)] == said  # the figures follow the verdict, as the CLI prints and the window's tooltip
    figures = " ".join(detail[len(said):])
    assert "Chunks of 4 / 4 / 4 items (min / median / max)" in figures
    assert f"ran {min(w.items for w in ins.per_worker):,} to" in figures
    assert "the worker processes" not in figures  # threads: no worker processes to count
    assert insight_sentences(None) == []
    assert insight_sentences(ins.replace(wall_s=0.0)) == []


def test_the_insights_name_the_gil_the_waits_and_held_back_results(real_run):
    ins = real_run.insights.replace(wall_s=2.0, workers=8, cores=2, items=100, busy_s=14.0,
                              busy_share=0.9, busy_threads=7.6, process_cores=1.1, task_cores=0.95,
                              free_cores=2.0, cpu_utilisation=0.25, startup_s=0.01, first_outcome_s=0.05)
    gil = " ".join(insight_sentences(ins.replace(gil_bound=True)))
    assert "8 threads were busy but their items used 0.9 core between them: the GIL serialised them" in gil
    assert "cores free" not in gil
    loaded = " ".join(insight_sentences(ins.replace(gil_bound=True, free_cores=0.6)))
    assert "only 0.6 cores free" in loaded
    waits = " ".join(insight_sentences(ins.replace(gil_bound=False, cpu_utilisation=0.02)))
    assert "mostly waited" in waits and "GIL" not in waits
    held = " ".join(insight_sentences(ins.replace(gil_bound=None, first_outcome_s=1.9)))
    assert "held results back" in held
    slow = " ".join(insight_sentences(ins.replace(gil_bound=None, startup_s=0.9)))
    assert "Start-up took 900.0 ms" in slow


def test_the_insights_name_which_memory_they_count(real_run):
    ins = real_run.insights.replace(peak_rss_bytes=60 * 2**20, peak_uss_bytes=None, end_uss_bytes=None)
    said = " ".join(insight_sentences(ins, detail=True))
    assert "60.0 MiB resident (RSS) summed over the run's processes." in said
    assert "RSS only" in said
    said = " ".join(insight_sentences(ins.replace(peak_uss_bytes=30 * 2**20), detail=True))
    assert "30.0 MiB of it their own (USS)" in said and "RSS only" not in said


def test_the_summary_line_is_the_clis_the_logs_and_the_windows(real_run):
    line = summary_line(real_run)
    assert line == real_run.line()
    assert line.startswith("40 items (40 ok) in ") and line.endswith(" on threads ×2")
    cancelled = real_run.replace(counts={"ok": 4, "failed": 0, "timed_out": 1, "cancelled": 35},
                                    wall_s=5.0)
    assert summary_line(cancelled, cancelled=True).startswith("5 of 40 items finished (4 ok, 1 timed out, 35 "
                                                              "cancelled) in 5.00 s, 1.0/s")
    assert summary_line(real_run.replace(not_read=None)).endswith("the rest of the input was not read")


# -- run states ------------------------------------------------------------------------


def test_every_state_the_history_gives_reads_the_same_in_the_cli_and_the_window(tmp_path, qapp):
    from PySide6.QtCore import Qt

    from poolside.cli.history import _line
    from poolside.gui.workspaces.history.model import HistoryModel
    from poolside.gui.workspaces.history.sqlite_reader import SqliteHistory

    spec = JobSpec("sha256", paths=(str(tmp_path),))
    for interrupted, stopped in ((False, False), (True, False), (True, True)):
        recorder = RunRecorder(spec)
        job = poolside.run(len, ["ab", "c"], backend="threads", workers=1, on_outcomes=recorder.on_outcomes)
        job.wait()
        recorder.finish(job.summary, interrupted=interrupted, stopped=stopped)
    running = RunRecorder(spec).run_id  # this process records it: still running
    paused = RunRecorder(spec).run_id  # ... and has paused it
    killed = RunRecorder(spec).run_id
    incomplete = RunRecorder(spec).run_id  # its recording stopped part-way (as the recorder marks it)
    conn = store.connect()
    conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (_a_dead_pid(), killed))
    conn.execute("UPDATE runs SET state = 'paused' WHERE id = ?", (paused,))
    conn.execute("UPDATE runs SET state = 'incomplete', finished_at = started_at, wall_s = 1.0, "
                 "history_error = 'disk full' WHERE id = ?", (incomplete,))
    rows = store.list_runs(conn)
    assert {r["id"]: r["state"] for r in rows} == {1: "finished", 2: "interrupted", 3: "stopped",
                                                   running: "running", paused: "paused", killed: "killed",
                                                   incomplete: "incomplete"}
    assert {r["state"] for r in rows} == set(RUN_STATES)  # the table holds every state, and only those
    entries = {e["id"]: e for e in SqliteHistory(store).list_entries()}
    model = HistoryModel(SqliteHistory(store))
    model.refresh()
    for row in rows:
        look = run_state(row["state"])
        assert f"  {look.label} " in _line(row)
        assert run_state(entries[str(row["id"])]["status"]) == look
        cell = model.index(model.row_of(str(row["id"])), 4)
        assert model.data(cell) == look.label and model.data(cell, Qt.ItemDataRole.ToolTipRole) == look.meaning
        color = model.data(cell, Qt.ItemDataRole.ForegroundRole)
        assert (color.name() if color is not None else None) == look.color
    assert [s for s in RUN_STATES if RUN_STATES[s].resumable] == ["interrupted", "stopped", "killed", "incomplete"]
    assert run_state("from-a-newer-poolside").label == "from-a-newer-poolside"


def _a_dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_status_labels_come_from_the_one_status_table():
    assert [units.status_label(s.value) for s in STATUS_ORDER] == [s.label for s in STATUS_ORDER]
    assert units.status_label("timed_out") == "timed out"
    assert units.status_label("something-else") == "something-else"


# -- durations and sizes --------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "–"), (math.nan, "–"), (0, "0 µs"), (0.000_000_4, "0 µs"), (0.000_85, "850 µs"),
    (0.000_999_6, "1.0 ms"), (0.012_34, "12.3 ms"), (0.999_96, "1.00 s"), (4.2, "4.20 s"),
    (59.996, "1:00"), (185, "3:05"), (3723, "1:02:03"),
])
def test_durations_read_in_the_unit_their_rounded_figure_needs(seconds, text):
    assert units.human_duration(seconds) == text


@pytest.mark.parametrize(("size", "text"), [
    (None, "–"), (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (1024 * 1024 - 1, "1.0 MiB"), (50 * 2**20, "50.0 MiB"), (3 * 2**40, "3.0 TiB"), (2**60, "1024.0 PiB"),
])
def test_sizes_read_in_binary_units(size, text):
    assert units.human_bytes(size) == text


def test_counts_rates_clocks_and_moments():
    assert units.count(1234567) == "1,234,567"
    assert (units.rate(1234.5), units.rate(12.34), units.rate(0.5)) == ("1,234/s", "12.3/s", "0.50/s")
    assert (units.clock(59.4), units.clock(3600)) == ("0:59", "1:00:00")
    now = 1_800_000_000.0
    assert units.when(None) == "–"
    assert units.when(now - 20 * 86_400, now=now).count("-") == 2  # a date beyond the week


# -- one definition of each ------------------------------------------------------------

#: The vocabulary's functions and tables ...
VOCABULARY = {
    "human_duration", "human_bytes", "clock", "count", "rate", "cell", "status_label", "when",
    "config_label", "family", "family_color", "FAMILY_COLORS", "DIAGNOSES", "diagnosis_sentence", "notes",
    "insight_sentences", "summary_line", "run_state", "RUN_STATES", "STATUS_LABELS",
}
#: ... and the copies they replaced, which must not come back.
RETIRED = {"sentences", "config_text", "notes_text", "when_text", "fmt_s", "mb", "_secs", "_bytes", "_duration",
           "_STATES", "_STATUS_COLORS", "FAMILIES"}
#: Same name, another concept.
ELSEWHERE = {("core/history/store.py", "family"): "a run's resume chain"}


def _module_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_the_vocabulary_is_defined_in_poolside_words_only():
    copies = []
    for folder in ("core", "gui", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("core/words/"):
                continue
            copies += [f"{rel}: {name}" for name in sorted(_module_level_names(path) & (VOCABULARY | RETIRED))
                       if (rel, name) not in ELSEWHERE]
    assert copies == []


def test_poolside_words_defines_every_name_of_the_vocabulary():
    defined = set().union(*(_module_level_names(p) for p in (ROOT / "core" / "words").glob("*.py")))
    assert defined >= VOCABULARY
    assert not defined & RETIRED


def test_a_busy_machine_is_said_with_its_measured_share():
    from poolside.words.study import note

    text = note({"code": "busy-machine", "runqueue_share": 0.42})
    assert text.startswith("the machine was busy with other programs") and "42%" in text
