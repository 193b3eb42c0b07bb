"""What observing costs: the observer thread's CPU at 4 Hz over a tree of 64 processes, as % of one core.

Starts a root process with 63 children (idle ``sleep``s: the cost of sampling a
process does not depend on how busy it is, and 64 Python processes would hold
~800 MB), observes the tree with :class:`poolside.observe.sampler.Observer`
for ``--seconds``, and reports the thread's own CPU time (``time.thread_time``)
per second of wall time.  The target is at most 1 % of one core; like
``usage.Monitor``, the observer stretches its interval rather than pass
``usage.CPU_BUDGET`` (0.8 %), so the rate it kept is printed too.

Peers measured in the same run, over the same tree, for a ratio:
``usage.Monitor`` alone (per-core and per-process CPU and RSS, what the
window's Cores views use: observe runs one inside), and the naive way
(``psutil.Process(root).children(recursive=True)`` and each one's
``cpu_times``, ``memory_info`` and ``threads()`` at every sample).

    python benchmarks/observe_cost.py [--seconds 10] [--hz 4] [--processes 64] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_PCT = 1.0
ROOT = ("import subprocess, sys; kids = [subprocess.Popen(['sleep', '600']) for _ in range({n})]; "
        "print('ready', flush=True); sys.stdin.read(); [k.kill() for k in kids]; [k.wait() for k in kids]")


def _tree(processes: int) -> subprocess.Popen:
    root = subprocess.Popen([sys.executable, "-c", ROOT.format(n=processes - 1)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert root.stdout is not None and root.stdout.readline().strip() == "ready"
    return root


def _observer(root: int, hz: float, seconds: float) -> tuple[float, int, int]:
    from poolside.observe.sampler import Observer

    obs = Observer(root, interval_s=1.0 / hz)
    obs.start()
    threading.Event().wait(seconds)  # the measurement window itself, not a wait for a condition
    obs.stop()
    return obs.cost_s, obs.samples, len(obs.processes)


def _monitor(root: int, hz: float, seconds: float) -> tuple[float, int, int]:
    from poolside.proctree import Descendants, RunProcesses
    from poolside.usage import Monitor

    tree = Descendants(root)
    mon = Monitor(lambda: tree.roles((), RunProcesses(begun=float("-inf"))), interval_s=1.0 / hz, read_uss=False)
    mon.begin_run()
    mon.start()
    threading.Event().wait(seconds)
    mon.stop()
    return mon.cost_s, mon.samples, len(mon.series()["processes"])


def _naive(root: int, hz: float, seconds: float) -> tuple[float, int, int]:
    import psutil

    stop, cost, n, seen = threading.Event(), [0.0], [0], [0]

    def loop() -> None:
        while not stop.is_set():
            c0 = time.thread_time()
            procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
            for p in procs:
                try:
                    with p.oneshot():
                        p.cpu_times(), p.memory_info(), p.threads()
                except psutil.Error:
                    pass
            seen[0] = len(procs)
            cost[0] += time.thread_time() - c0
            n[0] += 1
            stop.wait(1.0 / hz)

    t = threading.Thread(target=loop)
    t.start()
    threading.Event().wait(seconds)
    stop.set()
    t.join()
    return cost[0], n[0], seen[0]


def measure(seconds: float, hz: float, processes: int) -> dict:
    root = _tree(processes)
    out: dict = {"hz": hz, "seconds": seconds, "load_average": [round(x, 2) for x in os.getloadavg()]}
    try:
        for name, fn in (("observe", _observer), ("usage.Monitor", _monitor), ("psutil naive", _naive)):
            cost, samples, seen = fn(root.pid, hz, seconds)
            out[name] = {"processes": seen, "samples": samples, "hz": round(samples / seconds, 2),
                         "pct_of_one_core": round(100 * cost / seconds, 3),
                         "us_per_sample": round(1e6 * cost / max(1, samples))}
    finally:
        assert root.stdin is not None
        root.stdin.close()
        root.wait()
    base = out["observe"]["pct_of_one_core"] or 1e-9
    for name in ("usage.Monitor", "psutil naive"):
        out[name]["ratio_to_observe"] = round(out[name]["pct_of_one_core"] / base, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--hz", type=float, default=4.0)
    ap.add_argument("--processes", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = measure(args.seconds, args.hz, args.processes)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"at {r['hz']:g} Hz for {r['seconds']:g} s, load average {r['load_average']}:")
        for name in ("observe", "usage.Monitor", "psutil naive"):
            m = r[name]
            ratio = f"  ({m['ratio_to_observe']}× observe)" if "ratio_to_observe" in m else ""
            print(f"  {name:<14} {m['processes']:>3} processes  {m['hz']:>5} Hz  {m['us_per_sample']:>6} µs a sample  "
                  f"{m['pct_of_one_core']:>6} % of one core{ratio}")
        print(f"target: observe ≤ {TARGET_PCT} % of one core")
    return 0 if r["observe"]["pct_of_one_core"] <= TARGET_PCT else 1


if __name__ == "__main__":
    sys.exit(main())
