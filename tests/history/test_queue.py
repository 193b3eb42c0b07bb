"""The job queue: kept in the history's database in order, reordered, taken one by one, and in memory
when the history is off."""

from __future__ import annotations

import os
from pathlib import Path

from poolside.history import store
from poolside.history.queue import JobQueue
from poolside.spec import JobSpec


def _spec(tmp_path: Path, name: str) -> JobSpec:
    f = tmp_path / name
    f.write_text(name)
    return JobSpec("sha256", paths=(str(f),), backend="threads", workers=2, params={})


def test_jobs_are_kept_in_order_and_outlive_the_queue_object(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    q = JobQueue()
    a = q.add(JobSpec("sha256", paths=("a.txt",)), "sha256 over 1 file")
    b = q.add(_spec(tmp_path, "b.txt"), "b")
    c = q.add(_spec(tmp_path, "c.txt"), "c")
    assert q.kept and q.error is None
    again = JobQueue()  # a restarted window
    assert [j.id for j in again.jobs()] == [a.id, b.id, c.id]
    # Paths are absolute, so the job means the same files from any folder.
    assert again.jobs()[0].spec.paths == (os.path.join(tmp_path, "a.txt"),)
    assert again.jobs()[0].spec.backend == "processes" and again.jobs()[1].spec.workers == 2


def test_move_remove_and_take(tmp_path: Path):
    q = JobQueue()
    a, b, c = (q.add(_spec(tmp_path, f"{n}.txt"), n) for n in "abc")
    assert q.move(c.id, -1) and [j.label for j in q.jobs()] == ["a", "c", "b"]
    assert not q.move(a.id, -1)  # already first
    assert not q.move(12345, 1)
    assert q.remove(b.id) and not q.remove(b.id)
    assert q.take().label == "a" and q.take().label == "c" and q.take() is None


def test_with_the_history_off_the_queue_is_in_memory(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("POOLSIDE_HISTORY", "off")
    q = JobQueue()
    q.add(_spec(tmp_path, "a.txt"), "a")
    q.add(_spec(tmp_path, "b.txt"), "b")
    assert not q.kept and [j.label for j in q.jobs()] == ["a", "b"]
    assert not store.db_path().exists()


def test_a_history_that_cannot_be_opened_leaves_the_queue_in_memory_and_says_why(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("a file where the folder should be")
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    q = JobQueue()
    job = q.add(_spec(tmp_path, "a.txt"), "a")
    assert not q.kept and "not kept in the history" in (q.error or "")
    assert q.jobs() == [job]


def test_an_unreadable_row_is_dropped_with_a_warning(tmp_path: Path, caplog):
    q = JobQueue()
    q.add(_spec(tmp_path, "a.txt"), "a")
    conn = store.connect()
    conn.execute("INSERT INTO queue (position, added_at, label, spec) VALUES (9, 0, 'bad', '{\"version\": 99}')")
    conn.close()
    assert [j.label for j in q.jobs()] == ["a"]
    assert "cannot be read" in caplog.text
    assert len(q.jobs()) == 1
