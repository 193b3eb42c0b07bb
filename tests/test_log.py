"""The engine's log: silent by default, lifecycle only, switched on by POOLSIDE_LOG or -v."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from poolside import run

from . import engine_tasks as tasks

_SCRIPT = """from poolside import run
if __name__ == "__main__":
    list(run(abs, range({n}), backend="{backend}", workers=2))
"""


def _run_script(tmp_path, n: int, backend: str = "threads", **env: str) -> subprocess.CompletedProcess:
    script = tmp_path / "job.py"
    script.write_text(_SCRIPT.format(n=n, backend=backend))
    environ = {k: v for k, v in os.environ.items() if k != "POOLSIDE_LOG"}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                          env={**environ, **env}, timeout=60)


def test_silent_by_default(tmp_path):
    done = _run_script(tmp_path, 100)
    assert done.returncode == 0 and done.stderr == ""


def test_poolside_log_env_var_prints_the_lifecycle_and_nothing_per_item(tmp_path):
    few = _run_script(tmp_path, 10, backend="processes", POOLSIDE_LOG="debug").stderr.splitlines()
    many = _run_script(tmp_path, 20_000, backend="processes", POOLSIDE_LOG="debug").stderr.splitlines()
    text = "\n".join(many)
    assert "INFO    poolside.engine" in text and "run started: processes x2" in text
    assert "run ended: 20,000 items (20,000 ok)" in text
    assert "poolside.backends.processes" in text and "worker process" in text
    # Lifecycle lines only: a thousand times the items, about as many lines.
    assert len(many) < len(few) + 10, many


def test_poolside_log_info_leaves_debug_out(tmp_path):
    err = _run_script(tmp_path, 10, backend="processes", POOLSIDE_LOG="info").stderr
    assert "run started" in err and "DEBUG" not in err


def test_a_killed_worker_and_the_retried_chunk_are_logged_with_why(caplog):
    caplog.set_level(logging.DEBUG, logger="poolside")
    job = run(tasks.hang_on_5, range(12), backend="processes", workers=2, timeout=0.5, chunk_size=4)
    outcomes = list(job)
    assert sum(o.status == "timed_out" for o in outcomes) == 1
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("poolside")]
    assert any("killed, its item ran past the 0.5 s timeout" in m for m in messages), messages
    assert any("replaced by" in m for m in messages), messages
    assert any("pending items run again" in m for m in messages), messages


def test_a_dead_worker_is_logged_as_a_warning(caplog):
    caplog.set_level(logging.DEBUG, logger="poolside")
    list(run(tasks.exit_on_50, range(60), backend="processes", workers=2, chunk_size=8))
    dead = [r for r in caplog.records if "died" in r.getMessage()]
    assert dead and dead[0].levelno == logging.WARNING and "exit code" in dead[0].getMessage()
