"""poolside.proctree: an exit told in words, a real tree killed and waited for, the roles, the run's peak."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest

from poolside import proctree
from poolside.proctree import (
    CHILD,
    HELPER,
    HOST,
    PARKED,
    RUN_ROLES,
    WORKER,
    Descendants,
    PeakMemory,
    RunProcesses,
    classify,
    describe_exit,
    kill_tree,
    own_tree,
)

# A child that starts a grandchild in its own session (it leaves the child's process group, as a
# daemon does), prints its pid, then waits on stdin.
PARENT = ("import os, subprocess, sys\n"
          "c = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE,\n"
          "                     start_new_session=True)\n"
          "print(c.pid, flush=True); sys.stdin.read()\n")


@pytest.mark.parametrize(("code", "words"), [
    (0, "exit code 0"), (3, "exit code 3"), (-9, "exit code -9, SIGKILL"), (-11, "exit code -11, SIGSEGV"),
    (-200, "exit code -200"), (None, "exit code unknown"),
])
def test_an_exit_is_told_by_its_code_and_its_signals_name(code, words):
    assert describe_exit(code) == words


def test_a_workers_death_says_that_it_died_and_how():
    from poolside.backends._kill import worker_died

    assert worker_died(-signal.SIGKILL) == "worker process died (exit code -9, SIGKILL)"


@pytest.mark.parametrize("wait_s", [proctree.KILL_WAIT_S, 0.0])
def test_kill_tree_ends_a_child_its_grandchild_outside_its_group_and_waits(wait_s):
    child = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, start_new_session=True)  # it leads a group, as a worker does
    assert child.stdout is not None
    grandchild = psutil.Process(int(child.stdout.readline()))
    try:
        assert os.getpgid(grandchild.pid) != child.pid  # the group kill alone would miss it
        kill_tree(child.pid, wait_s=wait_s)
        if wait_s:  # back once the grandchild is dead or a zombie (its parent, dead too, no longer reaps it)
            assert not grandchild.is_running() or grandchild.status() == psutil.STATUS_ZOMBIE
        else:
            proctree.wait_dead([grandchild], proctree.KILL_WAIT_S)
        assert child.wait(timeout=10) == -signal.SIGKILL  # the root: its parent (this test) reaps it
        assert not grandchild.is_running() or grandchild.status() == psutil.STATUS_ZOMBIE
    finally:
        for p in (child, grandchild):
            try:
                p.kill()
            except (ProcessLookupError, psutil.Error):
                pass
        child.wait()


def test_kill_tree_of_a_process_already_gone_does_nothing():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    kill_tree(done.pid, sweep_group=True)  # no error, no wait


def test_roles_the_run_tree_is_the_host_the_runs_workers_and_their_children():
    # host 10 ─┬ zygote 11 ─┬ 20 (this run's, named) ── 31 (its task's)
    #          │            ├ 21 (parked: an earlier run's)
    #          │            └ 22 (new since the run began)
    #          └ 12 (multiprocessing's forkserver)
    parents = {11: 10, 12: 10, 20: 11, 21: 11, 22: 11, 31: 20}
    seen = {11: 1.0, 12: 1.0, 20: 2.0, 21: 2.0, 22: 6.0, 31: 6.0}
    roles = classify(10, parents, seen, [11], RunProcesses(begun=4.0, workers=(20,)),
                     lambda pid: "python -c from multiprocessing.forkserver import main" if pid == 12 else "")
    assert roles == {10: HOST, 11: HELPER, 12: HELPER, 20: WORKER, 21: PARKED, 22: WORKER, 31: CHILD}
    assert [pid for pid, role in roles.items() if role in RUN_ROLES] == [10, 20, 22, 31]


def test_the_tree_lists_a_real_child_and_grandchild_with_their_roles():
    tree = Descendants(os.getpid())
    tree.update()
    begun = proctree.time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        roles = tree.roles([], RunProcesses(begun=begun))
        assert roles[os.getpid()] == HOST and roles[child.pid] == WORKER and roles[grandchild] == CHILD
        # A fresh look (the first one reads the kernel's lists of children) finds the same, as parked.
        fresh = Descendants(os.getpid()).roles([], RunProcesses(begun=proctree.time.perf_counter() + 1))
        assert fresh[child.pid] == PARKED and fresh[grandchild] == CHILD
        assert {child.pid, grandchild} <= {p.pid for p in proctree.descendants(os.getpid())}
    finally:
        kill_tree(child.pid)
        child.wait()
    assert own_tree() is own_tree() and own_tree().root == os.getpid()


def test_the_peak_is_the_largest_rss_and_uss_is_read_at_a_new_peak_when_due(monkeypatch):
    reads: list[float] = []

    def read(at: float) -> dict[int, int]:
        reads.append(at)
        return {1: 10, 2: 20}

    peak = PeakMemory(began=0.0)
    assert peak.add(0.1, 100, lambda: read(0.1)) is None  # too young a run: RSS only
    assert peak.add(0.3, 200, lambda: read(0.3)) == {1: 10, 2: 20}
    assert peak.add(0.4, 300, lambda: read(0.4)) is None  # read 0.1 s ago: not due
    assert peak.add(1.0, 250, lambda: read(1.0)) is None  # no new peak
    assert peak.add(1.1, 400, lambda: read(1.1)) is not None
    assert reads == [0.3, 1.1] and peak.peak_rss == 400 and peak.peak_uss == 30
    assert proctree.USS_EVERY_S > 0 and proctree.USS_MIN_RUN_S > 0


def test_each_process_keeps_its_largest_uss_the_root_apart_from_the_rest():
    peak = PeakMemory(began=0.0)
    assert peak.split(1) == (None, None)  # nothing read yet
    peak.add(0.3, 100, lambda: {1: 50, 2: 30, 3: 10})
    peak.note_uss({1: 40, 2: 35, 4: 5})  # the end's read: worker 2 grew, the root shrank
    peak.note_uss(None)  # a read that was not ours: nothing changes
    assert peak.uss_by_pid == {1: 50, 2: 35, 3: 10, 4: 5}
    assert peak.split(1) == (50, 35)
    assert PeakMemory(began=0.0).split(1) == (None, None)


# A child that starts three threads (their ids come from the same numbers as processes), then a
# grandchild; prints the grandchild's pid and its threads' ids, then waits on stdin.
THREADED = ("import subprocess, sys, threading\n"
            "stop = threading.Event()\n"
            "ts = [threading.Thread(target=stop.wait) for _ in range(3)]\n"
            "[t.start() for t in ts]\n"
            "c = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE)\n"
            "print(c.pid, *[t.native_id for t in ts], flush=True)\n"
            "sys.stdin.read(); stop.set(); c.stdin.close(); c.wait()\n")


@pytest.mark.parametrize("how", ["births probed", "a storm of births listed", "no mark: every pid listed"])
def test_the_pids_born_since_the_last_look_are_processes_not_threads(how, monkeypatch):
    if how.startswith("a storm"):
        monkeypatch.setattr(proctree, "PROBE_MAX", 0)
    elif how.startswith("no mark"):  # not Linux
        monkeypatch.setattr(proctree, "last_pid", lambda: None)
    tree = Descendants(os.getpid())
    tree.update()
    child = subprocess.Popen([sys.executable, "-c", THREADED], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        grandchild, *threads = (int(x) for x in child.stdout.readline().split())
        parents = tree.update()
        assert parents[child.pid] == os.getpid() and parents[grandchild] == child.pid
        # The child's threads show its parent (this process, the root) as theirs: not children of it.
        assert not set(threads) & set(parents)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    assert not {child.pid, grandchild} & set(tree.update())
