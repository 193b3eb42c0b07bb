"""Run one child measurement in a fresh process, with a hard time limit and memory sampling.

The child (``benchmarks.child``) reports through ``@@bench`` lines on stdout.
This side:

* kills the child and every process it started when the hard limit passes
  (``multiprocessing.Pool`` hangs forever on a dead worker), and says so;
* optionally samples the resident memory of the whole process tree (the child
  plus every descendant: workers, forkserver, resource trackers) every
  ``SAMPLE_S``, and keeps the peak (RSS; and PSS, which splits pages shared
  between forked processes among them, every few samples);
* after the child exits, finds descendants it left running (orphans), reports
  and kills them, so no measurement leaks into the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.child import MARK

ROOT = Path(__file__).resolve().parent.parent
# Memory sampling period.  Reading one process's RSS (/proc/PID/statm) costs
# ~20 us; listing the tree scans /proc, so that happens every few ticks only.
SAMPLE_S = 0.01
_TREE_EVERY = 5
# How long descendants may take to exit after the child did before they count as orphans.
_ORPHAN_GRACE_S = 1.5


@dataclass
class ChildResult:
    records: list[dict] = field(default_factory=list)
    returncode: int | None = None
    hung: bool = False  # killed at the hard limit
    wall_s: float = 0.0
    peak_rss: int = 0  # bytes, whole tree (0 when not sampled)
    peak_pss: int = 0  # bytes, whole tree, sampled every _TREE_EVERY ticks
    #: At the peak: (what, bytes) for each process of the tree, biggest first.
    peak_parts: list[tuple[str, int]] = field(default_factory=list)
    orphans: int = 0
    stderr_tail: str = ""

    def of(self, ev: str) -> list[dict]:
        return [r for r in self.records if r.get("ev") == ev]

    @property
    def error(self) -> str | None:
        errors = self.of("error")
        if errors:
            return errors[0]["msg"]
        if self.hung:
            return None
        if self.returncode not in (0, None):
            tail = self.stderr_tail.strip().splitlines()[-1:] or [""]
            return f"exit code {self.returncode}: {tail[0][:200]}"
        return None


class _Tree:
    """The child's process tree, remembered by (pid, create time) so a reused pid is not confused."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.seen: dict[int, psutil.Process] = {root.pid: root}
        self.names: dict[int, str] = {root.pid: "parent"}

    def refresh(self) -> None:
        try:
            for proc in self.root.children(recursive=True):
                if proc.pid not in self.seen:
                    self.seen[proc.pid] = proc
                    self.names[proc.pid] = self._name(proc)
        except psutil.Error:
            pass

    def rss(self) -> dict[int, int]:
        """Resident bytes of every process of the tree alive now, by pid."""
        out = {}
        for pid, proc in list(self.seen.items()):
            try:
                out[pid] = proc.memory_info().rss
            except psutil.Error:
                pass
        return out

    def pss(self) -> int:
        """Proportional set size of the tree: shared pages split among the processes sharing them.

        Reading it costs ~0.3 ms a process (smaps_rollup), so it is sampled less often than RSS.
        """
        total = 0
        for proc in list(self.seen.values()):
            try:
                total += proc.memory_full_info().pss
            except (psutil.Error, AttributeError):
                pass
        return total

    def describe(self, pid: int) -> str:
        return self.names.get(pid, "?")

    def _name(self, proc: psutil.Process) -> str:
        """What a process of the tree is, read once when it is first seen."""
        try:
            text = " ".join(proc.cmdline())
            ppid = proc.ppid()
        except psutil.Error:
            return "?"
        if ppid in self.names and self.names[ppid] == "forkserver":
            return "worker"  # forked from the forkserver: its cmdline is the server's
        for key, name in (("forkserver", "forkserver"), ("resource_tracker", "resource tracker"),
                          ("semaphore_tracker", "resource tracker"), ("loky", "loky worker")):
            if key in text:
                return name
        return "worker"

    def alive(self) -> list[psutil.Process]:
        out = []
        for proc in self.seen.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    out.append(proc)
            except psutil.Error:
                pass
        return out

    def kill_all(self) -> None:
        self.refresh()
        for proc in self.alive():
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(list(self.seen.values()), timeout=3)


def run_child(spec: dict, limit_s: float, sample_memory: bool = False) -> ChildResult:
    """Run ``spec`` in ``python -m benchmarks.child`` and collect what it reports."""
    result = ChildResult()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        popen = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", json.dumps(spec)],
            stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT, env=env, text=True,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not the measurement
        )
        try:
            tree = _Tree(psutil.Process(popen.pid))
        except psutil.Error:  # it exited already
            tree = None

        def read() -> None:
            assert popen.stdout is not None
            for line in popen.stdout:
                if line.startswith(MARK):
                    try:
                        result.records.append(json.loads(line[len(MARK):]))
                    except ValueError:
                        pass

        reader = threading.Thread(target=read, name="bench-reader", daemon=True)
        reader.start()
        deadline = started + limit_s
        tick = 0
        peak_sizes: dict[int, int] = {}
        period = SAMPLE_S if sample_memory else 0.05
        try:
            while popen.poll() is None:
                if time.perf_counter() >= deadline:
                    result.hung = True
                    break
                if tree is not None and tick % _TREE_EVERY == 0:
                    tree.refresh()
                if tree is not None and sample_memory and tick % _TREE_EVERY == 0:
                    result.peak_pss = max(result.peak_pss, tree.pss())
                if tree is not None and sample_memory:
                    sizes = tree.rss()
                    total = sum(sizes.values())
                    if total > result.peak_rss:
                        result.peak_rss = total
                        peak_sizes = sizes
                tick += 1
                time.sleep(period)
        except BaseException:  # Ctrl-C: leave nothing running behind us
            if tree is not None:
                tree.kill_all()
            raise
        result.wall_s = time.perf_counter() - started
        if tree is not None and peak_sizes:
            result.peak_parts = sorted(((tree.describe(pid), size) for pid, size in peak_sizes.items()),
                                       key=lambda part: -part[1])
        if result.hung and tree is not None:
            tree.kill_all()
        popen.wait()
        reader.join(5)
        result.returncode = popen.returncode
        if tree is not None and not result.hung:
            # Anything still running now was left behind by the contender.
            grace = time.perf_counter() + _ORPHAN_GRACE_S
            while tree.alive() and time.perf_counter() < grace:
                time.sleep(0.05)
            left = tree.alive()
            result.orphans = len(left)
            if left:
                tree.kill_all()
        stderr.seek(0)
        result.stderr_tail = stderr.read()[-2000:]
    return result
