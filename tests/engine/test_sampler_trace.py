"""The sampler on a real busy child process, and the trace a run writes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import psutil
import pytest

from poolside import Outcome, Status, run
from poolside.trace import trace_events, write_trace
from poolside.usage import Monitor, busy_threads
from tests import engine_tasks as tasks

BUSY_CHILD = "import sys\nsys.stdout.write('go\\n'); sys.stdout.flush()\nwhile True: pass\n"


def test_monitor_sees_a_busy_child_in_the_tree_and_the_cores():
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "go\n"  # it is spinning now
        spinner = psutil.Process(child.pid)
        mon = Monitor(lambda: [child.pid], interval_s=0.1)
        mon.begin_run()
        cpu0 = sum(spinner.cpu_times()[:2])
        mon.start()
        # Bounded poll: CPU % is a rate, so it needs samples over which the child ran (the
        # machine is shared: wait for the child's own CPU time, not for wall time).
        tick = threading.Event()
        for _ in range(600):
            if mon.samples >= 4 and sum(spinner.cpu_times()[:2]) - cpu0 >= 0.2:
                break
            tick.wait(0.05)
        mon.end_run()
        mon.stop()
        cpu1 = sum(spinner.cpu_times()[:2])
    finally:
        child.kill()
        child.wait()
    s = mon.series()
    (proc,) = s["processes"]
    assert proc["pid"] == child.pid and proc["role"] == "host"
    # The CPU the monitor saw, integrated over its samples, is the CPU the child used.
    seen = float(np.nansum(proc["cpu"][1:] / 100.0 * np.diff(proc["t"])))
    assert seen == pytest.approx(cpu1 - cpu0, rel=0.35, abs=0.05)
    assert np.all(proc["rss"] > 1e6)
    assert s["peak_rss"] >= np.nanmax(s["tree_rss"]) > 0
    assert s["core_user"].shape == (len(s["t"]), mon.cores)
    busy = s["core_user"][1:] + s["core_system"][1:]
    assert 40 < np.nanmax(busy) <= 100.0001  # NaN: no clock tick on that core between two samples
    # The tree's share, in % of the machine, is one core's worth divided by the cores.
    assert np.nanmax(s["tree_cpu"]) * mon.cores == pytest.approx(np.nanmax(proc["cpu"]))
    assert np.all(np.diff(s["t"]) > 0)
    assert mon.cost_s > 0 and not mon.running


def test_monitor_keeps_a_long_run_by_halving_its_resolution():
    mon = Monitor(lambda: [], interval_s=0.25)
    mon.begin_run(origin=0.0)
    for i in range(10_000):
        mon.sample(now=float(i))
    s = mon.series()
    assert 2048 <= len(s["t"]) <= 4096
    assert s["t"][0] == 0 and s["t"][-1] > 9_000 and np.all(np.diff(s["t"]) > 0)
    assert len(mon.recent(60.0)["t"]) == 61


def test_busy_threads_integrates_each_items_overlap_with_each_interval():
    # Two items: 0..1 s and 0.5..1.5 s, sampled every 0.5 s.
    got = busy_threads([0.0, 0.5], [1.0, 1.0], [0.5, 1.0, 1.5, 2.0], 0.5)
    assert got.tolist() == [1.0, 2.0, 1.0, 0.0]
    # 1,000 items of 1 ms back to back on one thread: one thread busy all along.
    starts = np.arange(1000) * 0.001
    assert busy_threads(starts, np.full(1000, 0.001), [0.25, 0.5, 0.75], 0.25) == pytest.approx([1, 1, 1])


def _validate(doc: dict, ran: list[Outcome]) -> list[dict]:
    events = doc["traceEvents"]
    xs = [e for e in events if e["ph"] == "X"]
    assert len(xs) == len(ran)  # one per item that ran, none for the others
    assert sorted(e["args"]["index"] for e in xs) == sorted(o.index for o in ran)
    for e in events:
        assert isinstance(e["pid"], int) and isinstance(e.get("tid", 0), int)
    tracks: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for e in xs:
        assert isinstance(e["ts"], int) and isinstance(e["dur"], int) and e["dur"] >= 0
        assert e["args"]["status"] in {s.value for s in Status}
        tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in tracks.values():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert named == set(tracks)
    return events


# A process that starts one of its own, says its pid, and waits on stdin.
PARENT = ("import subprocess, sys\n"
          "c = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE)\n"
          "print(c.pid, flush=True); sys.stdin.read(); c.stdin.close(); c.wait()\n")
IDLE = "import sys; sys.stdin.read()"


def test_the_engines_sampler_counts_the_runs_tree_not_what_was_there_before():
    import os

    from poolside.engine.sampler import TreeSampler
    from poolside.proctree import kill_tree

    earlier = subprocess.Popen([sys.executable, "-c", IDLE], stdin=subprocess.PIPE)  # a parked worker, say
    sampler = TreeSampler()
    worker = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert worker.stdout is not None
        task_child = int(worker.stdout.readline())
        tree = {p.pid for p in sampler._run_tree()}
        assert {os.getpid(), worker.pid, task_child} <= tree and earlier.pid not in tree
        rss = sum(psutil.Process(pid).memory_info().rss for pid in (os.getpid(), worker.pid, task_child))
        sampler.end()
        assert sampler.peak_rss >= 0.8 * rss  # the three, summed (RSS moves a little between two reads)
        sampler.watch(earlier.pid)  # it reported results: this run adopted it
        assert earlier.pid in {p.pid for p in sampler._run_tree()}
    finally:
        for p in (worker, earlier):
            kill_tree(p.pid)
            p.wait()


# In a fresh process (this one has parked workers and helpers as children): a sampler begun with
# no child looks at no tree, and still counts a child born during its run, and only while it lives.
CHILDLESS = """
import os, subprocess, sys
from poolside.engine.sampler import TreeSampler, childless
assert childless()
sampler = TreeSampler()
assert [p.pid for p in sampler._run_tree()] == [os.getpid()]
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
assert not childless()
assert child.pid in {p.pid for p in sampler._run_tree()}
child.stdin.close()
child.wait()
assert childless() and [p.pid for p in sampler._run_tree()] == [os.getpid()]
sampler.end()
print("ok")
"""


def test_a_sampler_begun_without_children_still_counts_a_child_born_in_its_run():
    done = subprocess.run([sys.executable, "-c", CHILDLESS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_a_runs_trace_has_one_bar_per_item_on_tracks_that_never_overlap(tmp_path, backend):
    mon = Monitor(interval_s=0.02)
    mon.begin_run()
    mon.start()
    try:
        job = run(tasks.sleep_for, [0.002] * 60, backend=backend, workers=2, chunk_size=3)
        outcomes = list(job)
    finally:
        mon.end_run()
        mon.stop()
    path = tmp_path / "run.json"
    n = write_trace(path, outcomes, mon.series())
    assert n == 60
    events = _validate(json.loads(path.read_text(encoding="utf-8")), outcomes)
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert {"CPU % of the machine", "memory (bytes)"} <= counters
    assert {e["args"]["worker"] for e in events if e["ph"] == "X"} == {0, 1}


def test_the_trace_skips_items_that_never_ran_and_never_draws_one_item_on_another():
    ok = Status.OK
    outcomes = [
        Outcome(0, "a.txt", ok, elapsed_s=0.010, worker=0, started_s=0.000, pid=10, tid=1),
        # Clocks read apart: starts 1 µs before the previous ended on the same track.
        Outcome(1, "b.txt", ok, elapsed_s=0.010, worker=0, started_s=0.009999, pid=10, tid=1),
        # The same slot after its process was replaced: another track.
        Outcome(2, "c.txt", Status.FAILED, elapsed_s=0.005, worker=0, started_s=0.005, pid=11, tid=1),
        Outcome(3, "d.txt", Status.CANCELLED),
    ]
    events = trace_events(outcomes)
    _validate({"traceEvents": events}, outcomes[:3])
    assert {e["name"] for e in events if e["ph"] == "X"} == {"a.txt", "b.txt", "c.txt"}
    json.dumps(events)  # plain JSON, no NaN


def test_cli_run_writes_a_trace(tmp_path):
    from poolside.cli.main import main

    for i in range(12):
        (tmp_path / f"f{i}.txt").write_text("one two three\n" * (i + 1), encoding="utf-8")
    out = tmp_path / "trace.json"
    code = main(["run", str(tmp_path), "-r", "-p", "wordcount", "-b", "threads", "-w", "2", "-q",
                 "--trace", str(out)])
    assert code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == 12 and all(e["name"].startswith("f") for e in xs)
    assert any(e["ph"] == "C" for e in doc["traceEvents"])
    from poolside.history import get_series, store  # the series is kept with the run, as the window's are

    conn = store.connect()
    try:
        stored = get_series(conn, store.last_run_id(conn))
    finally:
        conn.close()
    assert stored is not None and len(stored["t"]) >= 1 and stored["processes"]
