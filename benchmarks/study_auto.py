"""How good is auto mode?  Its recommendation against the best of an exhaustive sweep, and its time.

    python -m benchmarks.study_auto [--budget 30] [--only NAME,...]

For each workload: auto mode (the default ``poolside.compare``) picks a configuration;
then an independent explicit sweep (threads and processes x 1, 2, 4, 8, 16, 32 workers,
plus chunk sizes 1, 16 and 256 at the core count; its own seed, so its own shuffled
order of repeats) runs on the very same sample.  The pick is "within
10 %" when its median in the sweep is at most 1.10 x the sweep's best median.  A pick
the sweep did not contain is measured against the sweep's winner in a small extra grid.
"""

from __future__ import annotations

import argparse
import os
import time

from benchmarks import study_workloads as w

WORKLOADS = {
    "sleep 10 ms": (w.sleep_10ms, 600),
    "sleep 1 ms": (w.sleep_1ms, 5000),
    "pure Python 3 ms": (w.python_3ms, 2000),
    "hashlib 2 MB": (w.hash_2mb, 2000),
    "sleep + Python": (w.mixed, 2000),
    "tiny (x*x)": (w.square, 200_000),
    # The hard tasks: each limits a parallel run its own way.
    "wait 15 ms + Python 5 ms": (w.wait_then_python, 2000),
    "numpy matmul": (w.matmul, 2000),
    "4 MB results": (w.big_result, 200),  # 4 MB each: 200 items move 800 MB a run already
    "heavy-tailed": (w.heavy_tailed, 2000),
    "Pillow thumbnail": (w.thumbnail, 2000),
}


def _sweep(task, items, sample: int, cores: int, seed: int):
    from poolside.study import Config, Study, grid

    configs = grid(["threads", "processes"], [1, 2, 4, 8, 16, 32], ["auto"])
    configs += [Config(b, cores, c) for b in ("threads", "processes") for c in (1, 16, 256)]
    return Study(task, items, configs=configs, sample=sample, repeats=3, seed=seed).run()


def _medians(result) -> dict:
    return {c.config: c.median_s for c in result.configs if c.runs and c.complete}


def main(argv: list[str] | None = None) -> int:
    from poolside import compare
    from poolside.study import Study
    from poolside.system import system_info
    from poolside.words.configs import config_label

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    cores = system_info().usable_cores
    rows = []
    for name, (task, count) in WORKLOADS.items():
        if args.only and name not in args.only.split(","):
            continue
        items = list(range(count))
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        auto = compare(task, items, budget_s=args.budget)
        auto_s = time.perf_counter() - t0
        pick = auto.recommendation.config
        t0 = time.perf_counter()
        sweep = _sweep(task, items, auto.items, cores, (auto.seed or 0) + 1)
        sweep_s = time.perf_counter() - t0
        medians = _medians(sweep)
        best = min(medians, key=medians.get)
        if pick in medians:
            ratio = medians[pick] / medians[best]
        else:  # measure the pick against the sweep's winner, interleaved, on the same sample
            extra = _medians(Study(task, items, configs=[pick, best], sample=auto.items, repeats=3,
                                   seed=auto.seed).run())
            ratio = extra[pick] / extra[best]
        rows.append((name, auto.diagnosis.kind, config_label(pick), config_label(best), ratio, auto_s, sweep_s,
                     len(auto.configs), len(sweep.configs), load))
        print(f"done: {name}: {auto.diagnosis.kind}, auto {config_label(pick)}, sweep {config_label(best)}, "
              f"{ratio:.2f}", flush=True)
    print()
    head = ("workload", "diagnosis", "auto picks", "sweep best", "pick/best", "≤1.10", "auto", "sweep", "load")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, kind, pick, best, ratio, auto_s, sweep_s, na, ns, load in rows:
        print(f"| {name} | {kind} | {pick} | {best} | {ratio:.2f} | {'yes' if ratio <= 1.10 else 'no'} | "
              f"{auto_s:.0f} s ({na} configs) | {sweep_s:.0f} s ({ns} configs) | {load:.1f} |")
    hits = sum(r[4] <= 1.10 for r in rows)
    print(f"\nauto within 10 % of the sweep's best: {hits} of {len(rows)}; "
          f"time: auto {sum(r[5] for r in rows):.0f} s, sweep {sum(r[6] for r in rows):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
