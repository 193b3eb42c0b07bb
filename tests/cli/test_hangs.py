"""``poolside run`` ends, and says the truth in its exit status, whatever happens to its output
or whatever the task leaves behind: a full disk on stdout or stderr, a reader that left the
pipe, a closed stderr, a thread that never ends, a forked child that returns.

Each case runs the real command in a subprocess: it needs real fds and a real exit.  The
``timeout=`` of each is a hang guard only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="/dev/full, fork and fds are POSIX")]

TASKS = ROOT / "tests" / "engine_tasks.py"
BACKENDS = ["sequential", "threads", "processes"]
HANG_GUARD_S = 120


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), POOLSIDE_HOME=str(tmp_path / "home"))
    env.pop("POOLSIDE_DEBUG", None)
    return env


def _files(folder: Path, n: int, prefix: str = "f") -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = [folder / f"{prefix}{i:03}.txt" for i in range(n)]
    for p in paths:
        p.write_text(p.name)
    return paths


def _poolside(tmp_path: Path, *args: str, **streams) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "run", *args], env=_env(tmp_path), cwd=tmp_path,
                          timeout=HANG_GUARD_S, **streams)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- output that cannot be written --------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_a_full_stdout_ends_the_run_with_exit_1_and_says_why(tmp_path, backend):
    _files(tmp_path / "in", 200)
    with open("/dev/full", "w") as full:
        done = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "sha256", "-b", backend,
                         stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1, done.stderr
    assert "200 items (200 ok)" in done.stderr, "every item has its outcome"
    assert "could not be written to standard output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_stdout_and_stderr_both_full_still_end_the_run_and_record_every_item(tmp_path, backend):
    _files(tmp_path / "in", 200)
    out = tmp_path / "o.jsonl"
    with open("/dev/full", "w") as full:
        done = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "sha256", "-b", backend,
                         stdout=full, stderr=subprocess.STDOUT)
        assert done.returncode == 1  # the results were for stdout, and none got there
        recorded = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "sha256", "-b", backend,
                             "-o", str(out), stdout=full, stderr=subprocess.STDOUT)
    # With --output the results went to the file: the run's own status, though nothing could be said.
    assert recorded.returncode == 0
    assert len(_records(out)) == 200 and {r["status"] for r in _records(out)} == {"ok"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_full_stderr_keeps_the_runs_own_exit_status(tmp_path, backend):
    _files(tmp_path / "in", 30)
    bad = tmp_path / "in" / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "o.jsonl"
    with open("/dev/full", "w") as full:
        done = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "thumbnail", "-g", "*", "-b", backend,
                         "-o", str(out), stdout=subprocess.DEVNULL, stderr=full)
    assert done.returncode == 1  # the items that failed: stderr could not say so, the status does
    assert len(_records(out)) == 31


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reader_that_left_the_pipe_is_not_success(tmp_path, backend):
    """``poolside run ... | head -1``: the pipe's reader is gone before the results are written."""
    _files(tmp_path / "in", 20)
    (tmp_path / "in" / "bad.png").write_text("not an image")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left: every write gets EPIPE
    try:
        failing = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "thumbnail", "-g", "*", "-b", backend,
                            stdout=write_end, stderr=subprocess.PIPE, text=True)
        all_ok = _poolside(tmp_path, str(tmp_path / "in"), "-r", "-p", "sha256", "-b", backend,
                           stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert failing.returncode == 1, failing.stderr
    assert "FAILED" in failing.stderr and "Traceback" not in failing.stderr
    assert all_ok.returncode == 1, all_ok.stderr  # every item ok, but the results did not get there
    assert "21 items (21 ok)" in all_ok.stderr and "its reader closed the pipe" in all_ok.stderr
    assert "Traceback" not in all_ok.stderr


@pytest.mark.parametrize(("plugin", "code"), [("sha256", 0), ("thumbnail", 1)])
def test_a_closed_stderr_gives_the_runs_own_exit_status(tmp_path, plugin, code):
    _files(tmp_path / "in", 10)
    (tmp_path / "in" / "bad.png").write_text("not an image")
    out = tmp_path / "o.jsonl"
    argv = [sys.executable, "-m", "core", "run", str(tmp_path / "in"), "-r", "-p", plugin, "-g", "*",
            "-b", "threads", "-o", str(out)]
    done = subprocess.run(["sh", "-c", 'exec "$@" 2>&-', "sh", *argv], env=_env(tmp_path), cwd=tmp_path,
                          stdout=subprocess.PIPE, timeout=HANG_GUARD_S)
    assert done.returncode == code
    assert len(_records(out)) == 11


# -- what a task leaves behind ---------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sequential", "threads"])
def test_a_thread_the_task_never_ends_does_not_keep_the_command_alive(tmp_path, backend):
    paths = _files(tmp_path / "in", 3)
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:start_endless_thread", "-b", backend,
                     capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 items (3 ok)" in done.stderr
    assert "threads still run a task or what it started (endless)" in done.stderr


def test_a_thread_the_task_never_ends_does_not_keep_its_item_process_alive(tmp_path):
    paths = _files(tmp_path / "in", 3)
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:start_endless_thread", "-b",
                     "process-per-item", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 items (3 ok)" in done.stderr


@pytest.mark.parametrize("backend", ["sequential", "threads", "asyncio"])
def test_a_recursion_limit_too_low_for_poolside_is_set_back(tmp_path, backend):
    # The task leaves the limit a few frames above its own depth: the engine's and the
    # writer's threads, deeper, would fail part-way and lose the outcomes after it.
    # One worker: the limit is set back before the item's result wakes anyone.
    paths = _files(tmp_path / "in", 6, "a") + _files(tmp_path / "in", 1, "low") + _files(tmp_path / "in", 5, "b")
    out = tmp_path / "o.jsonl"
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:recursion_limit_just_above", "-b", backend,
                     "-w", "1", "-o", str(out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "12 items (12 ok)" in done.stderr
    assert sorted(r["item"] for r in _records(out)) == sorted(map(str, paths))


@pytest.mark.parametrize("backend", ["sequential", "threads"])
@pytest.mark.parametrize("task", ["close_stdout_and_stderr", "tight_recursion_limit"])
def test_a_task_that_breaks_the_process_still_lets_the_run_end(tmp_path, backend, task):
    paths = _files(tmp_path / "in", 5)
    out = tmp_path / "o.jsonl"
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:{task}", "-b", backend, "-o", str(out),
                     capture_output=True)
    assert done.returncode == 0, done.stderr
    assert sorted(r["item"] for r in _records(out)) == sorted(map(str, paths))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_child_the_task_forked_never_runs_an_item_again(tmp_path, backend):
    folder = tmp_path / "in"
    paths = _files(folder, 3, "a") + _files(folder, 1, "fork") + _files(folder, 3, "b")
    # One worker, one chunk: the child, back in the loop, would run every item after the fork.
    # communicate() returns only when every holder of the command's stdout is gone: the
    # child too, had it lived on.
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:fork_and_return", "-b", backend,
                     "-w", "1", "--chunk-size", "7", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "7 items (7 ok)" in done.stderr
    assert "the task forked a process" in done.stderr and "it was ended" in done.stderr
    for p in paths:
        runs = p.with_name(p.name + ".ran").read_text().splitlines()
        assert len(runs) == 1, f"{p.name} ran {len(runs)} times"


@pytest.mark.parametrize("backend", [*BACKENDS, "process-per-item", "mp-pool", "process-executor"])
def test_a_child_the_task_forked_and_left_running_is_ended_with_its_item(tmp_path, backend):
    folder = tmp_path / "in"
    paths = _files(folder, 2, "a") + _files(folder, 1, "fork")
    # communicate() returns only when every holder of the command's stdout is gone:
    # a child left running would hold it for ten minutes, past the hang guard.
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:fork_and_linger", "-b", backend,
                     capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 items (3 ok)" in done.stderr
    assert done.stderr.count("did not wait for it; it was ended with its item") == 1, done.stderr


@pytest.mark.parametrize("backend", ["threads", "asyncio"])
def test_a_thread_left_in_a_timed_out_item_does_not_hold_the_exit(tmp_path, backend):
    paths = _files(tmp_path / "in", 3, "a") + _files(tmp_path / "in", 1, "hang")
    done = _poolside(tmp_path, *map(str, paths), "-p", f"{TASKS}:hang_when_named_hang", "-b", backend,
                     "--timeout", "0.5", capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "4 items (3 ok, 1 timed out)" in done.stderr


@pytest.mark.parametrize(("quiet", "code"), [((), 1), (("-q",), 0)])
def test_a_closed_stdout_fails_the_run_only_when_results_were_for_it(tmp_path, quiet, code):
    _files(tmp_path / "in", 10)
    argv = [sys.executable, "-m", "core", "run", str(tmp_path / "in"), "-r", "-p", "sha256", "-b", "threads", *quiet]
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *argv], env=_env(tmp_path), cwd=tmp_path,
                          stderr=subprocess.PIPE, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == code, done.stderr
    assert "10 items (10 ok)" in done.stderr
    assert ("standard output is closed" in done.stderr) == (code == 1)


def test_a_usage_error_with_stderr_closed_writes_nothing_to_stdout(tmp_path):
    argv = [sys.executable, "-m", "core", "run", "--plugin", "sha256", "nope"]
    done = subprocess.run(["sh", "-c", 'exec "$@" 2>&-', "sh", *argv], env=_env(tmp_path), cwd=tmp_path,
                          stdout=subprocess.PIPE, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == 2 and done.stdout == ""
