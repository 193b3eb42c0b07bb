"""``poolside run`` steered by signals: SIGUSR1 pauses and resumes it, SIGUSR2 stops it after its
current items; the counts add up and the history says how it ended.  A gated item
(``gate_on`` in ``plugin_files/host_tasks.py``) tells the test when it runs."""

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

from poolside.history import store
from tests import PLUGIN_FILES, ROOT
from tests.engine.test_run_controls import gates
from tests.waits import WAIT_S

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGUSR1 and SIGUSR2 are POSIX")


def _start(tmp_path: Path, out: Path, err: Path, n: int = 10) -> tuple[subprocess.Popen, object, list[str]]:
    gate, = gates(tmp_path, 1)
    Path(gate.path).write_text("gate")
    names = [gate.path]
    for i in range(n):
        (tmp_path / f"item{i:02}").write_text(str(i))
        names.append(str(tmp_path / f"item{i:02}"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "run", *names, "-p", f"{PLUGIN_FILES / 'host_tasks.py'}:gate_on",
         "-b", "threads", "-w", "1", "--chunk-size", "1", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=err.open("w"), env=env, cwd=tmp_path)
    return proc, gate, names


def _until(proc: subprocess.Popen, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)  # ok: polling another process's files; no signal to wait on


def _last_state() -> str:
    conn = store.connect()
    try:
        return store.get_run(conn, store.last_run_id(conn))["state"]
    finally:
        conn.close()


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_sigusr2_stops_after_the_current_items(tmp_path):
    out, err = tmp_path / "o.jsonl", tmp_path / "err.txt"
    proc, gate, names = _start(tmp_path, out, err)
    try:
        gate.wait_started()
        proc.send_signal(signal.SIGUSR2)
        _until(proc, lambda: "stopping after the current items" in err.read_text())
        gate.release()
        proc.wait(WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.read_text()
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    status = {r["item"]: (r["status"], r["error_type"]) for r in _records(out)}
    assert sorted(status) == sorted(names)  # every item once: the counts add up
    assert status[gate.path] == ("ok", None)  # it was running: it finished
    assert {status[n] for n in names[1:]} == {("cancelled", "Stopped")}
    assert f"{len(names)} items (1 ok, {len(names) - 1} cancelled)" in text
    assert _last_state() == "stopped"


def test_sigusr1_pauses_and_resumes(tmp_path):
    out, err = tmp_path / "o.jsonl", tmp_path / "err.txt"
    proc, gate, names = _start(tmp_path, out, err)
    try:
        gate.wait_started()
        proc.send_signal(signal.SIGUSR1)
        _until(proc, lambda: "paused:" in err.read_text() and _last_state() == "paused")
        gate.release()
        _until(proc, lambda: any(r["item"] == gate.path for r in _records(out)))
        proc.send_signal(signal.SIGUSR1)
        proc.wait(WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.read_text()
    assert proc.returncode == 0, text
    assert "resumed" in text
    assert sorted(r["item"] for r in _records(out) if r["status"] == "ok") == sorted(names)
    assert _last_state() == "finished"
