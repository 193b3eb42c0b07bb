"""The fault matrix: every way a task, an output or a history can misbehave, on every backend.

    python -m benchmarks.fault_matrix [--backends sequential,threads,...] [--cases fail,hang,...]

Each cell runs ``poolside run`` on 20 small files in a session of its own, the
task (``benchmarks/fault_tasks.py``) misbehaving on the item ``f07``, and says:

* the exit code, and whether it tells the truth (0 only when every item is ok);
* the outcomes in ``--output``, and whether they add up to the 20 items;
* whether the run ended at all (past ``GUARD_S`` it counts as a hang and is killed);
* how many processes of the run's session outlived it.

A cell breaks a promise when any of these is wrong; the table marks it ``BROKEN``.
The tests hold each case on the backends where it matters; this prints all of
them at once, for a closing note or a review.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

TASKS = Path(__file__).with_name("fault_tasks.py")
ITEMS = 20
# A run of 20 tiny items ends in about a second on every backend (joblib's and
# Dask's start-up included); past this it is stuck.
GUARD_S = 90.0
TIMEOUT_S = "2"  # --timeout for every cell: the hang case needs one

BACKENDS = ["sequential", "threads", "processes", "process-per-item", "mp-pool", "process-executor",
            "joblib", "asyncio"]
# The library pools have no per-item timeout (poolside says so and exits 2): a
# hung item there hangs the run by design, as it does in the library itself.
NO_TIMEOUT = {"mp-pool", "mp-thread-pool", "process-executor", "thread-executor", "joblib", "dask",
              "thread-per-item"}
# The task runs in the command's own process: a segfault there is the command's.
IN_PROCESS = {"sequential", "threads", "asyncio", "thread-executor", "mp-thread-pool", "thread-per-item"}


@dataclass(frozen=True)
class Case:
    name: str
    task: str
    needs_timeout: bool = False
    needs_isolation: bool = False
    stdout: str = "pipe"  # pipe | devfull | head (``| head -1``)
    history: str = "fresh"  # fresh | corrupt
    relative: bool = False  # items given relative to the run's folder
    all_ok: bool = False  # every item should end ok (else: f07 fails or times out)


CASES = [
    Case("fail", "fail"),
    Case("base-exception", "raise_base_exception"),
    Case("system-exit", "system_exit"),
    Case("segfault", "segfault", needs_isolation=True),
    Case("hang", "hang", needs_timeout=True),
    Case("unrebuildable", "unrebuildable"),
    Case("async", "async_fail"),
    Case("endless-thread", "endless_thread", all_ok=True),
    Case("fork-return", "fork_and_return", all_ok=True),
    Case("fork-linger", "fork_and_linger", all_ok=True),
    Case("close-fds", "close_std_fds", all_ok=True),
    Case("recursion", "tight_recursion"),
    Case("chdir", "chdir_away", relative=True, all_ok=True),
    Case("dev-full", "fail", stdout="devfull"),
    Case("head-1", "fail", stdout="head"),
    Case("corrupt-history", "fail", history="corrupt"),
]


@dataclass
class Cell:
    code: int | None
    counts: Counter
    seconds: float
    survivors: int
    hung: bool
    problems: list[str]


def _prepare(root: Path, case: Case) -> tuple[Path, Path]:
    data = root / "in"
    data.mkdir()
    for i in range(ITEMS):
        (data / f"f{i:02}").write_bytes(b"x" * (i + 1))
    home = root / "home"
    home.mkdir()
    if case.history == "corrupt":
        _corrupt_history(root, home)
    return data, home


def _corrupt_history(root: Path, home: Path) -> None:
    """A history with a few pages overwritten: what a crash mid-write or a bad disk leaves."""
    env = dict(os.environ, POOLSIDE_HOME=str(home))
    subprocess.run([sys.executable, "-m", "poolside", "run", "--samples", "-p", "sha256", "-q"],
                   env=env, cwd=root, capture_output=True, timeout=GUARD_S)
    db = next(home.rglob("*.sqlite*"), None) or next(home.rglob("*.db"), None)
    if db is None:
        return
    with open(db, "r+b") as f:
        size = f.seek(0, 2)
        for page in range(2, max(3, size // 4096), 3):
            f.seek(page * 4096)
            f.write(os.urandom(512))


def _command(case: Case, backend: str, data: Path, out: Path) -> list[str]:
    items = [f"f{i:02}" for i in range(ITEMS)] if case.relative else [str(data / f"f{i:02}") for i in range(ITEMS)]
    timeout = [] if backend in NO_TIMEOUT else ["--timeout", TIMEOUT_S]
    return [sys.executable, "-m", "poolside", "run", *items, "-p", f"{TASKS}:{case.task}", "-b", backend,
            *timeout, "-o", str(out)]


# multiprocessing's forkserver and resource tracker, and loky's workers, end
# when they read EOF from the command that started them: a few ms after it, or
# up to loky's check interval.  What is still there after this grace outlived it.
SURVIVOR_GRACE_S = 3.0


def _session_members(sid: int) -> list[int]:
    """The live processes of session ``sid`` once the grace is over (zombies are dead)."""
    import psutil

    members = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                members.append(p)
        except (ProcessLookupError, PermissionError, psutil.Error):
            pass
    deadline = time.monotonic() + SURVIVOR_GRACE_S
    alive = members
    while alive and time.monotonic() < deadline:
        _gone, alive = psutil.wait_procs(alive, timeout=0.1)
        alive = [p for p in alive if _is_live(p)]
    return [p.pid for p in alive]


def _is_live(p) -> bool:
    import psutil

    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def run_cell(case: Case, backend: str) -> Cell:
    root = Path(tempfile.mkdtemp(prefix="poolside-fault-"))
    try:
        data, home = _prepare(root, case)
        out = root / "out.jsonl"
        argv = _command(case, backend, data, out)
        env = dict(os.environ, POOLSIDE_HOME=str(home))
        if case.stdout == "head":
            shell = 'set -o pipefail; "$@" 2>/dev/null | head -1 >/dev/null'
            argv = ["bash", "-c", shell, "bash", *argv]
        t0 = time.perf_counter()
        with open("/dev/full" if case.stdout == "devfull" else os.devnull, "wb") as stdout:
            proc = subprocess.Popen(argv, cwd=data if case.relative else root, env=env, stdout=stdout,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        hung = False
        try:
            code: int | None = proc.wait(GUARD_S)
        except subprocess.TimeoutExpired:
            hung, code = True, None
        seconds = time.perf_counter() - t0
        survivors = _session_members(proc.pid)
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if hung:
            proc.wait()
        counts = Counter(json.loads(line)["status"] for line in out.read_text().splitlines()) \
            if out.exists() else Counter()
        return Cell(code, counts, seconds, len(survivors), hung, _problems(case, code, counts, survivors, hung))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _problems(case: Case, code: int | None, counts: Counter, survivors: list[int], hung: bool) -> list[str]:
    problems = []
    if hung:
        problems.append("hung")
    if survivors:
        problems.append(f"{len(survivors)} outlived it")
    if sum(counts.values()) != ITEMS:
        problems.append(f"{sum(counts.values())} outcomes")
    all_ok = counts.get("ok", 0) == ITEMS
    if case.all_ok and not all_ok:
        problems.append("not all ok")
    if code is not None and (code == 0) != all_ok:
        problems.append(f"exit {code}")
    return problems


def _cell_text(cell: Cell) -> str:
    bad = "**BROKEN** " + ", ".join(cell.problems) + " · " if cell.problems else ""
    shown = "/".join(f"{cell.counts.get(s, 0)}" for s in ("ok", "failed", "timed_out", "cancelled"))
    return f"{bad}{cell.code} · {shown} · {cell.seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    cases = [c for c in CASES if c.name in args.cases.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("cell: exit code · ok/failed/timed out/cancelled · seconds\n")
    print("| case | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    broken = 0
    for case in cases:
        texts = []
        for backend in backends:
            if case.needs_timeout and backend in NO_TIMEOUT:
                texts.append("n/a: no timeouts")
                continue
            if case.needs_isolation and backend in IN_PROCESS:
                texts.append("n/a: runs in the caller")
                continue
            cell = run_cell(case, backend)
            broken += bool(cell.problems)
            texts.append(_cell_text(cell))
        print(f"| {case.name} | " + " | ".join(texts) + " |", flush=True)
    print(f"\n{broken} broken cells of {len(cases) * len(backends)} (n/a cells are not run); "
          f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
