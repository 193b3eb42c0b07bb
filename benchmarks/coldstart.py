"""``python -m benchmarks.coldstart``: where a cold run's time goes, Poolside and its peer side by side.

    python -m benchmarks.coldstart                    # hash and cpu, both callers (~1 minute on 2 cores)
    python -m benchmarks.coldstart --only hash --repeats 9

Data flow::

    parent ── one fresh child per repeat (python -m benchmarks.coldstart --child SPEC) ──► JSON line
      │        the child: [a second thread] → t0 → pool / run() → every result → shut down → t2
      │        each item returns (pid, start, end, when its process got the task's module)
      └──► medians per contender of the timeline below, and the caller's own CPU time

The timeline, in ms since t0 (creating the pool, or calling ``run()``)::

    task module    when the process the workers came from imported the task's module
                   (Poolside's forkserver preloads it: its server is up then; Pool's
                   forkserver workers import it themselves; fork: before t0)
    1st worker     the first item's start on the first worker to start one
    2nd worker     the same on the second: the gap is the late worker's cost
    last end       the last item's end
    results        the caller has every result
    closed         the pool is shut down and its workers joined (the cold figure)
    idle           the workers' idle time between their first and last item, summed
    split          items per worker, fewest/most
    caller CPU     the caller's user+system CPU over the run: on 2 cores it is taken from the workers

Items stamp ``time.perf_counter()`` (CLOCK_MONOTONIC on Linux: one clock for every
process).  Contenders take turns, each repeat a fresh process, and the load average
before and after says how calm the run was; compare the columns of one run.
"""

from __future__ import annotations

# Only what the child needs at the top: a forkserver's workers import this module as
# their main (multiprocessing's ``prepare``), and the parent's tools would weigh on them.
import json
import os
import sys
import threading
import time
from typing import Any

# (id, label, kind, caller): kind "poolside" or a multiprocessing start method.
CONTENDERS = [
    ("poolside-single", "Poolside processes, one-thread caller", "poolside", "single"),
    ("pool-fork-single", "Pool.map (fork), one-thread caller", "fork", "single"),
    ("poolside-threaded", "Poolside processes, threaded caller", "poolside", "threaded"),
    ("pool-forkserver-threaded", "Pool.map (forkserver), threaded caller", "forkserver", "threaded"),
]

COLUMNS = ["task module", "1st worker", "2nd worker", "last end", "results", "closed", "idle", "caller CPU"]


# --------------------------------------------------------------------------
# The child: one cold run, its timeline as one JSON line


def child(spec: dict) -> dict:
    from benchmarks import workloads

    if spec["caller"] == "threaded":
        threading.Thread(target=threading.Event().wait, name="caller's other thread", daemon=True).start()
    task = workloads.sha256_stamped if spec["workload"] == "hash" else workloads.burn_stamped
    items = spec["items"]
    workers = spec["workers"]
    # Imported before the clock, for every contender: the figures are about starting workers.
    import multiprocessing.pool

    if spec["kind"] == "poolside":
        import psutil  # noqa: F401  (the first run's sampler imports it)

        import poolside.backends.processes
        import poolside.engine.job  # noqa: F401
        from poolside import run
        from poolside.backends.workers import stop_idle_workers

        cpu0, t0 = os.times(), time.perf_counter()
        values = []
        for outcome in run(task, items, backend="processes", workers=workers):
            if outcome.status != "ok":
                raise RuntimeError(f"item {outcome.item}: {outcome.status} {outcome.error}")
            values.append(outcome.value)
        t1 = time.perf_counter()
        stop_idle_workers()
    else:
        import multiprocessing as mp

        cpu0, t0 = os.times(), time.perf_counter()
        pool = mp.get_context(spec["kind"]).Pool(workers)
        values = pool.map(task, items)
        t1 = time.perf_counter()
        pool.close()
        pool.join()
    t2, cpu1 = time.perf_counter(), os.times()
    return timeline(values, t0, t1, t2, (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))


def timeline(values: list[tuple[int, float, float, float]], t0: float, t1: float, t2: float,
             caller_cpu_s: float) -> dict:
    by_pid: dict[int, list[tuple[float, float]]] = {}
    for pid, start, end, _ in values:
        by_pid.setdefault(pid, []).append((start, end))
    firsts = sorted(min(s for s, _ in spans) for spans in by_pid.values())
    idle = 0.0
    for spans in by_pid.values():
        spans.sort()
        idle += sum(max(0.0, b[0] - a[1]) for a, b in zip(spans, spans[1:]))
    counts = sorted(len(spans) for spans in by_pid.values())
    ms = 1000.0
    return {
        "task module": (min(v[3] for v in values) - t0) * ms,
        "1st worker": (firsts[0] - t0) * ms,
        "2nd worker": (firsts[1] - t0) * ms if len(firsts) > 1 else None,
        "last end": (max(v[2] for v in values) - t0) * ms,
        "results": (t1 - t0) * ms,
        "closed": (t2 - t0) * ms,
        "idle": idle * ms,
        "caller CPU": caller_cpu_s * ms,
        "split": f"{counts[0]}/{counts[-1]}",
    }


# --------------------------------------------------------------------------
# The parent


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _calibrate(target_s: float) -> int:
    from benchmarks.suite import calibrate_burn

    return calibrate_burn(target_s)


def _run_child(spec: dict) -> dict | str:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "benchmarks.coldstart", "--child", json.dumps(spec)],
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return (done.stderr.strip().splitlines() or ["no output"])[-1]
    return json.loads(lines[-1])


def measure(workload: str, items: list[Any], workers: int, repeats: int) -> list[str]:
    import statistics

    from benchmarks.report import render_table

    samples: dict[str, list[dict]] = {c[0]: [] for c in CONTENDERS}
    failures: dict[str, str] = {}
    for rep in range(repeats):
        for cid, label, kind, caller in CONTENDERS:
            print(f"    [{rep + 1}/{repeats}] {workload}: {label} ...", file=sys.stderr, flush=True)
            got = _run_child({"workload": workload, "items": items, "workers": workers, "kind": kind,
                              "caller": caller})
            if isinstance(got, str):
                failures[cid] = got
            else:
                samples[cid].append(got)
    rows = []
    for cid, label, _, _ in CONTENDERS:
        runs = samples[cid]
        if not runs:
            rows.append([label, failures.get(cid, "no result"), *[""] * len(COLUMNS)])
            continue
        cells = []
        for column in COLUMNS:
            values = [r[column] for r in runs if r[column] is not None]
            cells.append(f"{statistics.median(values):.0f}" if values else "-")
        rows.append([label, *cells, statistics.median_low([r["split"] for r in runs])])
    return render_table(["contender (ms since t0, medians)", *COLUMNS, "split"], rows, "l" + "r" * (len(COLUMNS) + 1))


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.coldstart", description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME[,NAME]", default="hash,cpu", help="hash, cpu")
    parser.add_argument("--repeats", type=int, default=5, metavar="N", help="fresh processes per contender")
    parser.add_argument("--workers", type=int, default=2, metavar="N")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - {"hash", "cpu"}
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(sorted(unknown))}; choose from hash, cpu")
    print(f"Cold-run timelines, {time.strftime('%Y-%m-%d %H:%M:%S')}; {args.workers} workers; "
          f"{args.repeats} fresh processes per contender; {_load()} at the start.")
    with tempfile.TemporaryDirectory(prefix="poolside-coldstart-") as tmp:
        for name in names:
            if name == "hash":
                from benchmarks.suite import make_files

                folder = make_files(Path(tmp) / "files", 1000, 64 * 1024)
                items: list[Any] = sorted(str(p) for p in folder.iterdir())
                title = "hash: 1,000 x 64 KiB sha256"
            else:
                loops = _calibrate(0.1)
                items = [loops] * 32
                title = f"cpu: 32 x burn({loops:,}), ~100 ms each on one core ({32 * 0.1 / args.workers:.1f} s ideal)"
            print(f"\n{title}")
            print("\n".join(measure(name, items, args.workers, args.repeats)))
    print(f"\n{_load()} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
