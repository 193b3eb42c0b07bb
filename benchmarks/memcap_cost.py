"""What the per-worker memory cap costs a run, and how far a fast-growing worker overshoots it.

    python -m benchmarks.memcap_cost [--repeats N] [--workers N]

The cap's thread reads each worker's RSS every 50 ms (``poolside.backends._memcap``).
Cost: CPU-bound items (``burn``) on processes, with a cap no worker reaches and
without one, in turns so that the machine's noise spreads over both; the ratio of
medians (above 1: the cap costs time), the order swapped every repeat.  Overshoot: one item grows by 16 MB steps
to 400 MB, under a 100 MB cap: how much it held when it was killed.  The load
average is printed: on a shared machine the ratio is only as good as the quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchmarks.workloads import burn

ITEMS = 400
WORK = 20_000  # burn(n): ~2-3 ms an item on this VM


def grow(_: int) -> int:
    """Hold 16 MB more every few milliseconds, up to 400 MB (every page touched)."""
    held = []
    for _step in range(25):
        block = bytearray(16 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        held.append(block)
    return sum(len(b) for b in held)


def _wall(workers: int, cap: str | None) -> float:
    from poolside import run

    options = {"backend_options": {"max_memory_per_worker": cap}} if cap else {}
    started = time.perf_counter()
    outcomes = list(run(burn, [WORK] * ITEMS, backend="processes", workers=workers, **options))
    assert all(o.status == "ok" for o in outcomes)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    _wall(args.workers, None)  # warm: workers parked for both sides
    without, with_cap = [], []
    for r in range(args.repeats):  # A B, B A, ...: neither side always runs second
        for cap in ((None, "100GB") if r % 2 == 0 else ("100GB", None)):
            (with_cap if cap else without).append(_wall(args.workers, cap))
    a, b = statistics.median(without), statistics.median(with_cap)
    print(f"{ITEMS} CPU items on processes x{args.workers}, {args.repeats} repeats in turns "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"  no cap   {a * 1e3:8.1f} ms")
    print(f"  cap      {b * 1e3:8.1f} ms   ratio {b / a:.3f} (above 1: the cap costs time)")
    from poolside import run

    (outcome,) = list(run(grow, [0], backend="processes", workers=1,
                          backend_options={"max_memory_per_worker": "100MB"}))
    print(f"overshoot: a worker growing 16 MB a step under a 100 MB cap: {outcome.status}, "
          f"{outcome.error.message if outcome.error else outcome.value}")


if __name__ == "__main__":
    main()
