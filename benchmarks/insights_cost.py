"""What run insights cost: 200,000 tiny items with and without them, in turns.

    python -m benchmarks.insights_cost [--repeats N]

Insights must cost under 5 % of a run (issue 9).  The engine feeds its
recorder once per batch of results, never per item, and a sampler thread
reads the process tree's memory ten times a second; this measures what that
adds to the run that stresses the engine most: 200,000 ``x*x`` items, whose
own time is nothing.  "Without" replaces the recorder and the sampler with
no-ops, in the same process, taking turns with "with" so that the machine's
noise spreads over both.  Medians; each backend warmed up first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from typing import Any

ITEMS = 200_000


class _NoSampler:
    peak_rss = 0
    peak_uss = end_uss = machine_cpu_s = None

    def watch(self, pid: int | None) -> None:
        pass

    def tick(self) -> None:
        pass

    def end(self) -> None:
        pass

    def cpu(self) -> tuple[float, float]:
        return 0.0, 0.0


class _NoRecorder:
    def __init__(self, *args: Any) -> None:
        self.chunks: Counter[int] = Counter()
        self.library_chunks = None

    def ran(self, *args: Any) -> None:
        pass

    def outcome_out(self, at_s: float) -> None:
        pass

    def finish(self, wall_s: float, items: int) -> None:
        return None


def _one(backend: str, workers: int) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds for one run."""
    from poolside import run

    from .workloads import square

    started, cpu = time.perf_counter(), time.process_time()
    ok = sum(o.ok for o in run(square, range(ITEMS), backend=backend, workers=workers))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert ok == ITEMS, f"{ITEMS - ok} items failed: the stand-ins must do all the engine asks of them"
    return elapsed, cpu


def measure(backend: str, workers: int, repeats: int) -> dict[str, float]:
    """Medians of wall and CPU time, with insights and without."""
    import poolside.engine.job as engine

    real = engine.TreeSampler, engine.InsightsRecorder
    off = _NoSampler, _NoRecorder
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    _one(backend, workers)  # warm: the forkserver, parked workers, imports
    for _ in range(repeats):
        for enabled in (True, False):
            engine.TreeSampler, engine.InsightsRecorder = real if enabled else off  # type: ignore[misc]
            runs[enabled].append(_one(backend, workers))
    engine.TreeSampler, engine.InsightsRecorder = real  # type: ignore[misc]
    return {f"{what}_{'with' if on else 'without'}": statistics.median(r[i] for r in runs[on])
            for on in (True, False) for i, what in enumerate(("wall", "cpu"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    import os

    print(f"{ITEMS:,} tiny items, median of {args.repeats} turns each; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("wall: the run's time; cpu: this process's CPU time (the engine and, on threads, the "
          "workers), which other programs on the machine disturb less")
    print(f"{'backend':<12}{'wall with':>11}{'without':>9}{'cost':>8}{'cpu with':>11}{'without':>9}{'cost':>8}")
    for backend, workers in (("processes", 2), ("threads", 2)):
        m = measure(backend, workers, args.repeats)
        print(f"{backend:<12}"
              f"{m['wall_with'] * 1e3:>9.0f}ms{m['wall_without'] * 1e3:>7.0f}ms"
              f"{m['wall_with'] / m['wall_without'] - 1:>+8.1%}"
              f"{m['cpu_with'] * 1e3:>9.0f}ms{m['cpu_without'] * 1e3:>7.0f}ms"
              f"{m['cpu_with'] / m['cpu_without'] - 1:>+8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
