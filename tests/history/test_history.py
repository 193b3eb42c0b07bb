"""The history: runs recorded in batches with failures in full, listing, pruning, migrations,
turning it off, resume (new and vanished items, a changed plugin), and a SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from poolside import run
from poolside.cli import main
from poolside.history import RunRecorder, store
from poolside.spec import JobSpec

FLAKY = """
from pathlib import Path

def flaky(path: Path) -> int:
    if path.name.startswith("bad"):
        raise ValueError("bad file " + path.name)
    return len(path.read_bytes())
"""


def _folder(root: Path, names: list[str]) -> Path:
    root.mkdir(exist_ok=True)
    for name in names:
        (root / name).write_text(name)
    return root


def _ok_per_item(run_id: int) -> Counter:
    conn = store.connect()
    try:
        return Counter(name for member in store.family(conn, run_id)
                       for name, status in store.outcomes(conn, member) if status == "ok")
    finally:
        conn.close()


def test_a_run_is_recorded_with_its_outcomes_and_failures(tmp_path: Path):
    data = _folder(tmp_path / "d", ["a.txt", "b.txt", "bad1.txt"])
    plugin = tmp_path / "flaky.py"
    plugin.write_text(FLAKY)
    spec = JobSpec(f"{plugin}:flaky", paths=(str(data),), recursive=True, backend="threads", workers=2)
    prepared = spec.prepare()
    recorder = RunRecorder(spec, prepared.task)
    job = run(prepared.task, prepared.items, **prepared.run_options(), on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    conn = store.connect()
    row = store.get_run(conn, recorder.run_id)
    assert (row["state"], row["total"], row["ok"], row["failed"]) == ("finished", 3, 2, 1)
    assert row["plugin_hash"].startswith("sha256:") and row["spec"]["paths"] == [str(data)]
    [failure] = store.failures(conn, recorder.run_id)
    assert failure["error_type"] == "ValueError" and "bad file bad1.txt" in failure["traceback"]
    assert sorted(n for n, _ in store.outcomes(conn, recorder.run_id)) == sorted(
        os.fsencode(data / n) for n in ("a.txt", "b.txt", "bad1.txt"))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_recorder_starts_its_writer_only_with_the_first_outcomes(tmp_path: Path):
    # The CLI makes its recorder before run(): a thread started here would make
    # the workers come through the zygote instead of a direct fork of the caller.
    import threading

    before = {t.ident for t in threading.enumerate()}
    recorder = RunRecorder(JobSpec("sha256", paths=(str(tmp_path),)))
    assert recorder.run_id is not None
    assert {t.ident for t in threading.enumerate()} == before
    job = run(len, ["ab", "c"], backend="threads", workers=1, on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    conn = store.connect()
    row = store.get_run(conn, recorder.run_id)
    assert (row["state"], row["total"], row["ok"]) == ("finished", 2, 2)


def test_a_run_with_no_outcome_is_recorded_too(tmp_path: Path):
    recorder = RunRecorder(JobSpec("sha256", paths=(str(tmp_path),)))
    job = run(len, [], backend="threads", workers=1, on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    row = store.get_run(store.connect(), recorder.run_id)
    assert (row["state"], row["total"]) == ("finished", 0)


def test_history_can_be_turned_off(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("POOLSIDE_HISTORY", "off")
    data = _folder(tmp_path / "d", ["a.txt"])
    assert main(["run", str(data), "-r", "--plugin", "sha256", "-q"]) == 0
    assert not store.db_path().exists()


def test_cli_lists_and_shows_runs_newest_first(tmp_path: Path, capsys):
    data = _folder(tmp_path / "d", ["a.txt", "b.txt"])
    assert main(["run", str(data), "-r", "--plugin", "sha256", "-q"]) == 0
    assert main(["run", str(data), "-r", "--plugin", "wordcount", "-q"]) == 0
    capsys.readouterr()
    assert main(["history", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["plugin"] for r in runs] == ["wordcount", "sha256"]
    assert main(["history", "show", str(runs[1]["id"])]) == 0
    assert "sha256" in capsys.readouterr().out


def test_prune_keeps_the_newest(tmp_path: Path, capsys):
    data = _folder(tmp_path / "d", ["a.txt"])
    for _ in range(3):
        assert main(["run", str(data), "-r", "--plugin", "sha256", "-q"]) == 0
    assert main(["history", "prune", "--keep", "1"]) == 0
    conn = store.connect()
    assert [r["id"] for r in store.list_runs(conn)] == [3]
    assert conn.execute("SELECT count(*) FROM batches").fetchone()[0] == 1  # the pruned runs' outcomes went too


def test_a_newer_schema_is_refused(tmp_path: Path):
    store.connect().close()
    raw = sqlite3.connect(store.db_path())
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(store.HistoryError, match="newer Poolside"):
        store.connect()


def test_resume_runs_only_what_is_not_ok_and_reports_new_and_vanished(tmp_path: Path, capsys):
    data = _folder(tmp_path / "d", ["a.txt", "b.txt", "bad1.txt", "gone.txt"])
    plugin = tmp_path / "flaky.py"
    plugin.write_text(FLAKY)
    assert main(["run", str(data), "-r", "--plugin", f"{plugin}:flaky", "-q"]) == 1
    assert "--resume 1" in capsys.readouterr().err
    (data / "gone.txt").unlink()
    (data / "bad1.txt").rename(data / "fixed.txt")  # the bad file, fixed: a new item; bad1 vanished
    (data / "c.txt").write_text("c")
    assert main(["run", "--resume", "last", "-q"]) == 0
    err = capsys.readouterr().err
    assert "2 items already ok, 2 to run" in err and "2 new items" in err and "2 recorded items are gone" in err
    conn = store.connect()
    second = store.get_run(conn, 2)
    assert second["parent_id"] == 1 and (second["total"], second["ok"]) == (2, 2)
    assert all(n == 1 for n in _ok_per_item(2).values())


def test_resume_refuses_a_changed_plugin_without_force(tmp_path: Path, capsys):
    data = _folder(tmp_path / "d", ["bad1.txt"])
    plugin = tmp_path / "flaky.py"
    plugin.write_text(FLAKY)
    assert main(["run", str(data), "-r", "--plugin", f"{plugin}:flaky", "-q"]) == 1
    plugin.write_text(FLAKY.replace('raise ValueError("bad file " + path.name)', "return -1"))
    assert main(["run", "--resume", "1", "-q"]) == 2
    assert "changed since run 1" in capsys.readouterr().err
    assert main(["run", "--resume", "1", "--force", "-q"]) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_run_then_resume_runs_every_item_ok_exactly_once(tmp_path: Path):
    names = [f"f{i:03}.txt" for i in range(200)]
    data = _folder(tmp_path / "d", names)
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolside", "run", str(data), "-r", "--plugin", "latency", "--param", "ms=30",
         "-b", "threads", "-w", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ), cwd=tmp_path)
    try:
        committed = 0
        assert proc.stdout is not None
        for _line in proc.stdout:  # a line per finished item: look at the database after each
            conn = sqlite3.connect(store.db_path()) if store.db_path().exists() else None
            if conn is not None:
                try:
                    rows = conn.execute("SELECT status FROM batches").fetchall()
                except sqlite3.OperationalError:  # the schema is not there yet
                    rows = []
                conn.close()
                committed = sum(r[0].count(0) for r in rows)
            if committed >= 10:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL and committed >= 10
    conn = store.connect()
    killed = store.get_run(conn, 1)
    assert killed["state"] == "killed" and killed["ok"] < len(names)
    assert main(["run", "--resume", "last", "-q", "-b", "threads", "-w", "8"]) == 0
    resumed = store.get_run(conn, 2)
    assert resumed["parent_id"] == 1 and resumed["total"] == len(names) - killed["ok"]
    ok = _ok_per_item(2)
    assert sorted(ok) == sorted(os.fsencode(data / n) for n in names)
    assert set(ok.values()) == {1}  # every item ok exactly once across the two runs
