"""A history that cannot be used (damaged, read-only, on a full disk) never stops a run and is
said once; a run whose history stopped part-way says so in the store and in its resume; the
history is private to its owner.

Tests run as root, which ignores file modes: "read-only" is ``chattr +i`` and a full disk a small
tmpfs, each skipped with its reason where this machine does not allow it."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from poolside.cli import main
from poolside.history import recorder, store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes, chattr and mounts")


def _inputs(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"f{i:03}.txt").write_text(str(i))
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(data: Path, *extra: str) -> int:
    return main(["run", str(data), "-r", "--plugin", "sha256", "--backend", "threads", "--workers", "2", "-q",
                 *extra])


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """``path`` cannot be written, renamed or deleted, even by root (chattr +i)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: no way to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"chattr +i is not permitted here ({done.stderr.strip()}): root ignores file modes")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.contextmanager
def _small_disk(where: Path) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode:
        pytest.skip(f"mounting a small tmpfs is not permitted here ({done.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def _fill(folder: Path) -> Path:
    """Fill the disk under ``folder`` to its last byte; the filler's path (delete it to free the disk)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while f.write(b"\0" * 4096):
            pass
    return filler


# -- case 10: private to its owner ------------------------------------------------


def test_a_new_history_is_private_to_its_owner(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    conn = store.connect()
    try:
        conn.execute("CREATE TABLE scratch (x)")  # something in the log: the -wal and -shm exist now
        files = [store.db_path(), *(store.db_path().with_name(store.db_path().name + s) for s in ("-wal", "-shm"))]
        assert all(f.exists() for f in files)
        assert _mode(home) == 0o700
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        conn.close()


def test_an_existing_history_readable_by_others_is_tightened_and_said(tmp_path: Path, monkeypatch, caplog):
    home = tmp_path / "data" / "poolside"
    monkeypatch.delenv("POOLSIDE_HOME", raising=False)
    monkeypatch.setattr(store, "_default_dir", lambda: home)  # Poolside's own folder
    store.connect().close()
    os.chmod(home, 0o755)
    os.chmod(store.db_path(), 0o644)
    with caplog.at_level(logging.INFO, logger="poolside"):
        store.connect().close()
    assert _mode(home) == 0o700 and _mode(store.db_path()) == 0o600
    said = [r.getMessage() for r in caplog.records if "private" in r.getMessage()]
    assert len(said) == 2 and any("644" in line for line in said)


def test_a_folder_the_user_named_keeps_its_mode_and_the_history_in_it_is_private(tmp_path: Path, monkeypatch):
    home = tmp_path / "shared"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    store.connect().close()
    assert _mode(home) == 0o755 and _mode(store.db_path()) == 0o600


# -- case 5: a history that cannot be used ------------------------------------------


@pytest.mark.parametrize("how", ["truncated", "not a database", "a file where the folder should be"])
def test_connect_raises_only_history_error_saying_why(tmp_path: Path, monkeypatch, how: str):
    home = tmp_path / "home"
    if how == "a file where the folder should be":
        home.write_text("")
    else:
        monkeypatch.setenv("POOLSIDE_HOME", str(home))
        _run(_inputs(tmp_path / "in", 5))
        data = store.db_path().read_bytes()
        store.db_path().write_bytes(data[:200] if how == "truncated" else b"not sqlite " * 500)
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    with pytest.raises(store.HistoryError, match=str(home)):
        store.connect().close()


def test_a_read_only_history_file_never_stops_a_run(tmp_path: Path, monkeypatch, capsys):
    data = _inputs(tmp_path / "in", 20)
    assert _run(data) == 0
    capsys.readouterr()
    with _immutable(store.db_path()):
        assert _run(data) == 0
        err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not in the history" in warnings[0] and "readonly" in warnings[0]
    assert "internal error" not in err


def test_move_aside_keeps_the_old_file_and_starts_a_new_history(tmp_path: Path):
    store.db_path().parent.mkdir(parents=True, exist_ok=True)
    store.db_path().write_bytes(b"not sqlite " * 500)
    with pytest.raises(store.HistoryError):
        store.connect()
    moved = store.move_aside()
    assert moved is not None and moved.name.startswith("history.sqlite3.broken-")
    assert moved.read_bytes() == b"not sqlite " * 500
    store.connect().close()  # a new, empty history
    assert _run(_inputs(tmp_path / "in", 3)) == 0
    conn = store.connect()
    try:
        assert [r["total"] for r in store.list_runs(conn)] == [3]
    finally:
        conn.close()


# -- case 6: a history that stopped part-way ---------------------------------------------


def test_a_run_whose_history_stopped_part_way_is_marked_and_its_resume_says_why(tmp_path: Path, monkeypatch,
                                                                                 capsys):
    """The disk fills after 40 outcomes: the rest of the run is not recorded, and the store says so."""
    data = _inputs(tmp_path / "in", 200)
    write = recorder._write_batch
    room = [40]  # outcomes the disk still holds

    def fills_after_40(conn, run_id, seq, batches):
        keep = []
        for items, statuses, elapsed, failed in batches:
            n = min(room[0], len(items))
            if n:
                keep.append((items[:n], statuses[:n], elapsed[:n], failed))
            room[0] -= n
            if n < len(items):
                if keep:
                    write(conn, run_id, seq, keep)
                raise sqlite3.OperationalError("database or disk is full")
        write(conn, run_id, seq, keep)

    monkeypatch.setattr(recorder, "_write_batch", fills_after_40)
    assert _run(data) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "database or disk is full" in err
    monkeypatch.setattr(recorder, "_write_batch", write)
    conn = store.connect()
    try:
        [run] = store.list_runs(conn)
        row = store.get_run(conn, run["id"])
    finally:
        conn.close()
    assert (run["state"], run["ok"], run["total"]) == ("incomplete", 40, 200)
    assert row is not None and "database or disk is full" in row["history_error"]
    assert main(["history"]) == 0 and "history incomplete" in capsys.readouterr().out

    assert _run_resume() == 0
    err = capsys.readouterr().err
    assert ("the history of run 1 stopped after 40 of 200 items: the other 160 items' outcomes were not "
            "recorded; they will run again") in err
    assert "new items joined" not in err and "internal error" not in err


def _run_resume() -> int:
    return main(["run", "--resume", "last", "-q"])


def test_a_full_disk_never_stops_a_run_and_its_resume_says_what_it_cannot_know(tmp_path: Path, monkeypatch,
                                                                                capsys):
    data = _inputs(tmp_path / "in", 50)
    with _small_disk(tmp_path / "disk") as disk:
        monkeypatch.setenv("POOLSIDE_HOME", str(disk / "home"))
        store.connect().close()
        filler = _fill(disk)
        assert _run(data) == 0  # the run's row may or may not fit: either way the run runs and says it
        err = capsys.readouterr().err
        assert err.count("warning:") == 1 and "not in the history" in err and "internal error" not in err
        filler.unlink()
        conn = store.connect()
        try:
            runs = store.list_runs(conn)
        finally:
            conn.close()
        if runs:  # the row fitted, its outcomes did not: it reads as killed, with what it kept
            assert runs[0]["state"] in ("killed", "incomplete")
            assert _run_resume() == 0
            err = capsys.readouterr().err
            assert "they will run" in err and "new items joined" not in err and "internal error" not in err


def test_a_disk_that_fills_after_the_runs_row_leaves_a_resume_that_says_what_it_cannot_know(
        tmp_path: Path, monkeypatch, capsys):
    data = _inputs(tmp_path / "in", 50)
    insert = recorder._insert
    with _small_disk(tmp_path / "disk") as disk:
        monkeypatch.setenv("POOLSIDE_HOME", str(disk / "home"))
        fillers = []

        def insert_then_fill(*args, **kwargs):
            row_id = insert(*args, **kwargs)
            fillers.append(_fill(disk))  # the row is in; not one outcome more fits
            return row_id

        monkeypatch.setattr(recorder, "_insert", insert_then_fill)
        assert _run(data) == 0
        err = capsys.readouterr().err
        assert err.count("warning:") == 1 and "not in the history" in err and "disk" in err
        monkeypatch.setattr(recorder, "_insert", insert)
        fillers[0].unlink()
        assert _run_resume() == 0
        err = capsys.readouterr().err
        assert "run 1 has no end recorded" in err and "50 items have no outcome in its history" in err
        assert "new items joined" not in err and "internal error" not in err


def test_a_truncated_history_is_said_by_every_command_and_never_stops_a_run(tmp_path: Path, capsys):
    data = _inputs(tmp_path / "in", 40)
    for _ in range(6):  # a history of several pages, cut in the middle of them
        assert _run(data) == 0
    whole = store.db_path().read_bytes()
    store.db_path().write_bytes(whole[: len(whole) // 2])
    capsys.readouterr()
    assert main(["history"]) == 2
    assert main(["run", "--resume", "last", "-q"]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and err.count(str(store.db_path())) == 2
    assert _run(data) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "not in the history" in err


@pytest.mark.parametrize("kept", [False, True], ids=["empty", "with a history"])
def test_a_read_only_folder_never_stops_a_run(tmp_path: Path, monkeypatch, capsys, kept: bool):
    data = _inputs(tmp_path / "in", 10)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("POOLSIDE_HOME", str(home))
    if kept:
        assert _run(data) == 0
    capsys.readouterr()
    with _immutable(home):
        assert _run(data) == 0
        err = capsys.readouterr().err
        assert main(["history"]) == 2  # said, as the run's warning says it
    assert err.count("warning:") == 1 and "not in the history" in err and str(home) in err
    assert "internal error" not in err + capsys.readouterr().err
