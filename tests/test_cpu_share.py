"""Poolside's share of the CPU and its worker processes, counted from the first sample of a run.

The window samples the run host and every process under it (``poolside.proctree``
says which are the run's workers); a run's workers must count from the first
sample after their fork, with the CPU they used since.  Waits are on signals
and on the sampler's own data; never sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import psutil
import pytest

from poolside.proctree import CHILD, HELPER, HOST, PARKED, WORKER, Descendants, RunProcesses, classify
from poolside.usage import Monitor
from tests.waits import WAIT_MS

TASKS = str(Path(__file__).parent / "plugin_files" / "host_tasks.py")


# -- roles ------------------------------------------------------------------------

def test_roles_tell_the_runs_workers_from_the_host_its_helpers_parked_workers_and_children():
    # host 10 ─┬ zygote 11 ─┬ 20 (this run's, adopted: seen before the run)
    #          │            ├ 21 (parked by an earlier run, not adopted)
    #          │            └ 22 (new since the run began: a replacement) ── 30 (the task's own)
    #          ├ 12 (multiprocessing's resource tracker)
    #          └ 13 (forked by the host directly, this run's)
    parents = {11: 10, 12: 10, 20: 11, 21: 11, 13: 10, 22: 11, 30: 22}
    seen = {11: 1.0, 12: 1.0, 20: 2.0, 21: 2.0, 13: 5.0, 22: 6.0, 30: 6.0}
    commands = {12: "python -c from multiprocessing.resource_tracker import main;main(5)"}
    roles = classify(10, parents, seen, [11], RunProcesses(begun=4.0, workers=(20, 13)),
                     lambda pid: commands.get(pid, "python -m poolside.host 3 1"))
    assert list(roles)[0] == 10
    assert roles == {10: HOST, 11: HELPER, 12: HELPER, 20: WORKER, 21: PARKED, 13: WORKER, 22: WORKER,
                     30: CHILD}
    # Before the host says which are the run's: what appeared since the run began.
    early = classify(10, parents, seen, [11], RunProcesses(begun=4.0), lambda pid: commands.get(pid, ""))
    assert [p for p, r in early.items() if r == WORKER] == [13, 22]
    # Items on the host's threads: what the host starts during the run is the task's.
    threads = classify(10, {40: 10, 41: 10}, {40: 1.0, 41: 6.0}, [], RunProcesses(begun=4.0, workers=()),
                       lambda pid: "")
    assert threads == {10: HOST, 40: PARKED, 41: CHILD}


SPAWNER = ("import subprocess, sys\n"
           "c = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE)\n"
           "print(c.pid, flush=True); sys.stdin.read(); c.stdin.close(); c.wait()\n")


def test_the_tree_finds_a_child_and_its_child_at_the_first_look_after_their_birth():
    tree = Descendants(os.getpid())
    before = set(tree.update())
    child = subprocess.Popen([sys.executable, "-c", SPAWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())  # both exist now
        parents = tree.update()
        assert parents[child.pid] == os.getpid() and parents[grandchild] == child.pid
        assert list(parents).index(child.pid) < list(parents).index(grandchild)  # parents first
        assert set(parents) - before == {child.pid, grandchild}
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    assert not {child.pid, grandchild} & set(tree.update())  # gone: forgotten


# -- the sampler ------------------------------------------------------------------

BURN = "import sys\nsys.stdout.write('go\\n'); sys.stdout.flush()\nwhile True: pass\n"


def test_a_process_born_between_two_samples_counts_with_the_cpu_it_used_since_its_birth():
    pids: list[int] = []
    mon = Monitor(lambda: pids, interval_s=60.0, read_uss=False)  # sampled by hand
    mon.begin_run()
    mon.sample()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "go\n"
        burner = psutil.Process(child.pid)
        tick = threading.Event()
        for _ in range(1000):  # bounded poll on the child's own CPU time (the machine is shared)
            if sum(burner.cpu_times()[:2]) >= 0.1:
                break
            tick.wait(0.01)
        pids.append(child.pid)
        mon.sample()
        used = sum(burner.cpu_times()[:2])
    finally:
        child.kill()
        child.wait()
    s = mon.series()
    (proc,) = s["processes"]
    span = s["t"][1] - s["t"][0]
    # All the CPU it used since its birth, over the interval it was born in (never 0 for a new process).
    assert proc["cpu"][0] / 100.0 * span == pytest.approx(used, abs=0.03)
    assert s["tree_cpu"][1] == pytest.approx(proc["cpu"][0] / mon.cores)


def test_an_old_process_seen_for_the_first_time_has_no_cpu_reading_yet():
    mon = Monitor(lambda: [os.getpid()], interval_s=60.0, read_uss=False)
    mon.begin_run()
    mon.sample()
    mon.sample()
    (proc,) = mon.series()["processes"]
    assert np.isnan(proc["cpu"][0]) and np.isfinite(proc["cpu"][1])  # unknown, then measured


# -- the window -------------------------------------------------------------------

pytest.importorskip("PySide6")


@pytest.fixture
def window(qtbot, tmp_path):
    from tests.gui_helpers import open_window

    w = open_window(qtbot, tmp_path)
    yield w
    w.close()  # ends the run host too


def test_the_windows_cpu_views_count_a_process_runs_two_workers_from_their_first_sample(qtbot, window, tmp_path):
    run = window.run_ws
    paths = []
    for i in range(6):
        (tmp_path / f"n{i}").write_text("x", encoding="utf-8")
        paths.append(str(tmp_path / f"n{i}"))
    run.files.model.add((p, 1) for p in paths)
    assert run.task.load_plugin_file(TASKS) and run.task.select("spin")
    run.task.form.editor("seconds").setValue(0.4)  # CPU-bound: 1.2 s of items a worker
    run.backend.set_backend("processes")
    run.backend.workers.setValue(2)
    run.backend.chunk.setValue(1)
    outcomes: list = []
    run.bridge.outcomesReady.connect(outcomes.extend)

    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        assert run.start_run()
    assert blocker.args[0].counts["ok"] == 6
    series = run.cpu_monitor.run_series()  # on the items' clock

    workers = {o.pid for o in outcomes}
    assert len(workers) == 2
    procs = {p["pid"]: p for p in series["processes"]}
    assert {pid for pid, p in procs.items() if p["role"] == WORKER} == workers  # not the zygote, not the host
    host = next(pid for pid, p in procs.items() if p["role"] == HOST)
    helpers = {c.pid for c in psutil.Process(host).children()} - workers  # its zygote (the workers are parked)
    assert helpers and all(procs[pid]["role"] == HELPER for pid in helpers), {p: procs[p]["role"] for p in helpers}
    t = series["t"]
    for pid in workers:
        items = sorted((o.started_s, o.started_s + o.elapsed_s) for o in outcomes if o.pid == pid)
        # The samples whose whole interval this worker spent running items (a few ms between two).
        busy = [k for k in range(1, len(t)) if _covered(items, t[k - 1], t[k])]
        assert len(busy) >= 2, (items, t)
        first = busy[0]
        p = procs[pid]
        at = {round(float(x), 6): i for i, x in enumerate(p["t"])}
        rows = [at.get(round(float(t[k]), 6)) for k in busy]
        assert None not in rows, f"worker {pid} was not sampled while it ran items (first at {p['t'][0]:.2f} s)"
        assert all(p["cpu"][i] > 0 and p["rss"][i] > 0 for i in rows), (pid, p["cpu"][rows[0]])
        assert series["tree_cpu"][first] > 0
    # What the views say: Poolside's share is above 0 while the run ran, two workers.
    assert np.nanmax(series["tree_cpu"]) > 0
    cores = run.cores
    cores.tabs.setCurrentWidget(cores.workers)
    assert cores.workers.headline_text().startswith("2 worker processes:")
    lanes = cores.workers.drawn()["worker_cpu"]
    assert int(np.isnan(lanes).sum()) == 2  # one NaN ends each worker's line


def test_the_cores_line_shows_the_latest_samples_rss_the_measure_of_the_runs_peak():
    from poolside.gui.widgets.cores_panel import _last, usage_text

    # USS read at one sample and not at the next: the line stays on RSS, the peak's measure,
    # rather than jump between the two.
    data = {"t": np.array([0.0, 0.25]), "user": np.array([10.0, 90.0]), "system": np.zeros(2),
            "tree_cpu": np.array([1.0, 50.0]), "tree_uss": np.array([10e6, np.nan]),
            "tree_rss": np.array([20e6, 60e6])}
    assert _last(data)["memory"] == 60e6
    data["tree_uss"][-1] = 30e6
    assert _last(data)["memory"] == 60e6
    assert usage_text({**_last(data), "peak_memory": 80e6}).endswith("(run peak 76.3 MiB)")


def _covered(items: list[tuple[float, float]], a: float, b: float, gap: float = 0.02) -> bool:
    """Whether [a, b] lies within the items' spans, joined across gaps under ``gap`` seconds."""
    pos = a
    for start, end in items:
        if start > pos + gap:
            break
        pos = max(pos, end)
        if pos >= b:
            return True
    return False
