"""``poolside run DIR --watch``: the files there, then each file written later once complete, until Ctrl-C
(a clean exit with the counts); after a restart, the files done already are not run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from poolside.cli import main
from tests import ROOT
from tests.waits import WAIT_S

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _until(proc: subprocess.Popen, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)  # ok: polling another process's file; no signal to wait on


def _watch(folder: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "core", "run", str(folder), "-p", "sha256", "-b", "threads", "-w", "2",
         "--watch", "-o", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder.parent)


def _names(records: list[dict]) -> list[str]:
    return sorted(Path(r["item"]).name for r in records)


def test_a_watch_runs_new_files_once_written_and_ctrl_c_ends_it_cleanly(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    out = tmp_path / "first.jsonl"
    proc = _watch(folder, out)
    try:
        _until(proc, lambda: len(_records(out)) == 2)
        # Written in two goes: it is taken once, whole, after it stopped changing.
        with open(folder / "c.txt", "w") as f:
            f.write("first half ")
            f.flush()
            os.fsync(f.fileno())
            time.sleep(0.3)  # ok: a writer that pauses half-way, which the watch must wait out
            f.write("second half")
        (folder / "sub").mkdir()
        (folder / "sub" / "d.txt").write_text("d")
        _until(proc, lambda: len(_records(out)) == 4)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopping the watch" in err
    assert "4 items (4 ok)" in err
    records = _records(out)
    assert _names(records) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    c = next(r for r in records if r["item"].endswith("c.txt"))
    assert c["value"]["bytes"] == len("first half second half")

    # Again: the files done are not run again, a new one is.
    (folder / "e.txt").write_text("e")
    again = tmp_path / "second.jsonl"
    proc = _watch(folder, again)
    try:
        _until(proc, lambda: len(_records(again)) == 1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert _names(_records(again)) == ["e.txt"]
    assert "4 files already done" in err and "1 items (1 ok)" in err


def test_watch_needs_a_folder_and_a_fresh_job(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text("a")
    assert main(["run", str(f), "-p", "sha256", "--watch"]) == 2
    assert "--watch needs a folder" in capsys.readouterr().err
    assert main(["run", "--resume", "last", "--watch"]) == 2
    assert "--resume" in capsys.readouterr().err
