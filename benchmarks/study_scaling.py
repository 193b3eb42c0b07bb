"""Does the scaling model predict?  Fit the USL without the largest worker count, then compare.

    python -m benchmarks.study_scaling [--repeats 3] [--sample 96]

Tasks of known contention: each item waits, then holds a lock every worker
shares (``study_workloads.wait_then_lock``), so at most 1 / (locked share)
items run at once in effect.  A grid study measures threads at 1, 2, 4, 8 and
16 workers; the Universal Scalability Law is fitted on 1-8 and predicts 16,
which was measured in the same study.  Printed: the fitted σ and κ, the
prediction with its range, the measured speed-up and the error, and the load.
"""

from __future__ import annotations

import argparse
import functools
import os

from benchmarks import study_workloads as w

# (wait, locked) seconds per item: the locked share is 10 %, 20 % and 40 %.
TASKS = {"locked 10 %": (0.009, 0.001), "locked 20 %": (0.008, 0.002), "locked 40 %": (0.006, 0.004)}
WORKERS = (1, 2, 4, 8, 16)


def main(argv: list[str] | None = None) -> int:
    from poolside.study import Study, grid
    from poolside.study.scaling import fit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=96)
    args = ap.parse_args(argv)
    rows = []
    for name, (wait_s, locked_s) in TASKS.items():
        task = functools.partial(w.wait_then_lock, wait_s=wait_s, locked_s=locked_s)
        load = os.getloadavg()[0]
        result = Study(task, list(range(args.sample)), configs=grid(["threads"], WORKERS),
                       sample=args.sample, repeats=args.repeats, seed=1).run()
        base = next(c for c in result.configs if c.config.sequential)
        threads = [c for c in result.configs if c.config.backend == "threads" and c.runs]
        held_out = max(threads, key=lambda c: c.config.workers)
        model = fit("threads", [c for c in threads if c is not held_out], base)
        if model is None:
            print(f"{name}: no model (too few worker counts ran)")
            continue
        p = model.predict(held_out.config.workers)
        error = (p["speedup"] - held_out.speedup) / held_out.speedup
        inside = p["low"] <= held_out.speedup <= p["high"]
        rows.append((name, model.sigma, model.kappa, held_out.config.workers, p, held_out.speedup, error, inside,
                     load))
        print(f"done: {name}", flush=True)
    print()
    print("| task | σ | κ | held out | predicted (range) | measured | error | in range | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, sigma, kappa, n, p, measured, error, inside, load in rows:
        print(f"| {name} | {sigma:.3f} | {kappa:.5f} | threads ×{n} | {p['speedup']:.2f}× "
              f"({p['low']:.2f}–{p['high']:.2f}) | {measured:.2f}× | {error:+.0%} | {'yes' if inside else 'no'} | "
              f"{load:.1f} |")
    if rows:
        mean = sum(abs(r[6]) for r in rows) / len(rows)
        print(f"\nmean absolute error of the held-out prediction: {mean:.0%} over {len(rows)} tasks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
