"""Messages a user can act on, for what tasks do to their worker and for large values."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from poolside.cli import main
from tests import PLUGIN_FILES

TASKS = Path(PLUGIN_FILES) / "message_tasks.py"


def _files(folder: Path, *names: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)
    return [str(folder / name) for name in names]


def test_a_huge_value_prints_a_short_line_and_output_has_it_all(tmp_path, capsys):
    [item] = _files(tmp_path, "a.txt")
    out = tmp_path / "out.jsonl"
    assert main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential"]) == 0
    printed = capsys.readouterr().out
    assert len(printed) < 1000
    assert "50.0 MiB of bytes in all; the full value is written by --output" in printed
    assert main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential", "-o", str(out)]) == 0
    record = json.loads(out.read_text().splitlines()[0])
    assert len(json.dumps(record)) > 50 * 1024 * 1024


def test_a_task_that_sets_a_tight_recursion_limit_fails_with_that_cause(tmp_path, capsys):
    items = _files(tmp_path, "a.txt", "b1.txt", "b2.txt", "b3.txt")
    out = tmp_path / "out.jsonl"
    code = main(["run", *items, "-p", f"{TASKS}:tight_recursion", "-b", "processes", "-w", "1",
                 "-o", str(out)])
    assert code == 1
    records = {Path(r["item"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["a.txt"]["status"] == "failed"
    assert "the task set the recursion limit to " in records["a.txt"]["error"]
    assert "too low for the worker process to go on" in records["a.txt"]["error"]
    assert all(records[f"b{i}.txt"]["status"] == "ok" for i in (1, 2, 3))


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_a_task_that_changes_directory_does_not_lose_the_next_items(backend, tmp_path, monkeypatch, capsys):
    _files(tmp_path / "in", "a.txt", "b.txt", "c.txt")
    monkeypatch.chdir(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    code = main(["run", "a.txt", "b.txt", "c.txt", "-p", f"{TASKS}:chdir_away", "-b", backend,
                 "-w", "1", "--chunk-size", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["item"], r["status"]) for r in records) == [
        ("a.txt", "ok"), ("b.txt", "ok"), ("c.txt", "ok")]


def test_relative_items_run_again_after_a_worker_death_still_find_their_files(tmp_path, monkeypatch, capsys):
    _files(tmp_path / "in", "a.txt", "b.txt", "c.txt")
    monkeypatch.chdir(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    # One chunk of three on one worker: b's death sends b and c to run again, in a new worker.
    code = main(["run", "a.txt", "b.txt", "c.txt", "-p", f"{TASKS}:read_then_die_once", "-b", "processes",
                 "-w", "1", "--chunk-size", "3", "-o", str(out)])
    records = {r["item"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["a.txt"]["status"] == "ok", records
    assert records["c.txt"]["status"] == "ok", records
    assert "moved or deleted" not in capsys.readouterr().err
    assert code in (0, 1)  # b failed with the death, or passed when run again alone


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs: a disk that fills up at once."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: a small disk cannot be made here")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "none", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here (it needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def _fill(folder: Path) -> None:
    try:
        with open(folder / "filler", "wb") as f:
            while True:
                f.write(bytes(4096))
                f.flush()
    except OSError as e:
        assert e.errno == errno.ENOSPC


def test_output_on_a_full_disk_says_the_disk_is_full(small_disk, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POOLSIDE_HISTORY", "off")
    [item] = _files(tmp_path / "in", "a.txt")
    out = small_disk / "out.jsonl"
    code = main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential", "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"the disk is full: {out} cannot be written" in err


def test_a_history_on_a_full_disk_says_the_disk_is_full(small_disk, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POOLSIDE_HOME", str(small_disk / "home"))
    [item] = _files(tmp_path / "in", "a.txt")
    assert main(["run", item, "-p", f"{TASKS}:name", "-b", "sequential"]) == 0  # the history exists
    capsys.readouterr()
    _fill(small_disk)
    main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential"])
    err = capsys.readouterr().err
    assert "the disk is full" in err
    assert str(small_disk / "home" / "history.sqlite3") in err


def test_library_threads_on_a_backend_that_cannot_cap_them_is_a_usage_error(tmp_path, capsys):
    [item] = _files(tmp_path, "a.txt")
    assert main(["run", item, "-p", "sha256", "-b", "threads", "--library-threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "threads backend runs its items in threads of one process" in err and "or sequential" in err
    assert main(["run", item, "-p", "sha256", "-b", "sequential", "--library-threads", "1"]) == 0
