"""What watching costs: the CPU the monitor's sampling thread spends, as a share of one core.

Starts ``--workers`` child processes (idle: the cost of sampling a process
does not depend on how busy it is), runs a :class:`poolside.usage.Monitor`
over this process and its children at ``--hz`` for ``--seconds``, and reports
the sampling thread's own CPU time (``time.thread_time``) per second of wall
time, with the cost per sample.  The target is under 1 % of one core.

    python benchmarks/monitor_cost.py [--seconds 10] [--hz 4] [--workers 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_PCT = 1.0
IDLE_CHILD = "import sys; sys.stdin.read()"  # ends when its stdin closes


def measure(seconds: float, hz: float, workers: int) -> dict:
    from poolside.usage import Monitor

    children = [subprocess.Popen([sys.executable, "-c", IDLE_CHILD], stdin=subprocess.PIPE)
                for _ in range(workers)]
    try:
        mon = Monitor(interval_s=1.0 / hz)
        mon.begin_run()
        t0 = time.perf_counter()
        mon.start()
        threading.Event().wait(seconds)  # the measurement window itself, not a wait for a condition
        mon.stop()
        wall = time.perf_counter() - t0
        tree = len(mon.series()["processes"])
    finally:
        for c in children:
            assert c.stdin is not None
            c.stdin.close()
        for c in children:
            c.wait()
    return {
        "hz": hz, "processes_sampled": tree, "samples": mon.samples, "wall_s": round(wall, 2),
        "thread_cpu_s": round(mon.cost_s, 4),
        "pct_of_one_core": round(100 * mon.cost_s / wall, 3),
        "us_per_sample": round(1e6 * mon.cost_s / max(1, mon.samples)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--hz", type=float, default=4.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = measure(args.seconds, args.hz, args.workers)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"monitor at {r['hz']:g} Hz over {r['processes_sampled']} processes: {r['samples']} samples in "
              f"{r['wall_s']} s, {r['us_per_sample']} µs each, {r['pct_of_one_core']} % of one core "
              f"(target < {TARGET_PCT} %)")
    return 0 if r["pct_of_one_core"] < TARGET_PCT else 1


if __name__ == "__main__":
    sys.exit(main())
