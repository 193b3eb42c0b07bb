"""What recording a run in the history costs: 20,000 files hashed with sha256, and 200,000 tiny items.

    python -m benchmarks.history_cost [--files 20000] [--tiny 200000] [--repeats 5]

Each measurement is a whole run: ``poolside.run`` with ``on_outcomes`` either a
no-op or ``RunRecorder.on_outcomes``, and for the recorded run the wait for the
writer thread to finish (``RunRecorder.finish``) is inside the timing.  Plain
and recorded runs alternate (A B A B ...) so drift hits both; the report gives
the medians and the overhead.  The history goes to a temporary POOLSIDE_HOME.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _noop(batch: list) -> None:
    pass


_CPU: list[float] = []  # per recorded run: CPU seconds spent recording (queueing + the writer thread)


def _timed(task, items, backend: str, workers: int, spec, record: bool) -> float:
    from poolside import run
    from poolside.history import RunRecorder

    recorder = RunRecorder(spec, task) if record else None
    queued = [0.0]

    def take(batch: list) -> None:
        start = time.thread_time()
        recorder.on_outcomes(batch)  # type: ignore[union-attr]
        queued[0] += time.thread_time() - start

    start = time.perf_counter()
    job = run(task, items, backend=backend, workers=workers, on_outcomes=take if recorder else _noop)
    job.wait()
    if recorder is not None:
        recorder.finish(job.summary)
        _CPU.append(queued[0] + recorder.writer_cpu_s)
    elapsed = time.perf_counter() - start
    assert job.summary.counts["ok"] == len(items), job.summary.line()
    return elapsed


def _case(name: str, task, items, backend: str, workers: int, spec, repeats: int) -> dict:
    _timed(task, items, backend, workers, spec, False)  # warm: workers started, files cached
    _CPU.clear()
    plain: list[float] = []
    recorded: list[float] = []
    for _ in range(repeats):
        plain.append(_timed(task, items, backend, workers, spec, False))
        recorded.append(_timed(task, items, backend, workers, spec, True))
    p, r = statistics.median(plain), statistics.median(recorded)
    return {"case": name, "plain_s": p, "recorded_s": r, "overhead": r / p - 1,
            "cpu_s": statistics.median(_CPU), "cpu_share": statistics.median(_CPU) / p,
            "plain_min": min(plain), "recorded_min": min(recorded)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--tiny", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", type=int, default=4096, help="bytes per file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="poolside-history-bench-") as tmp:
        os.environ["POOLSIDE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("POOLSIDE_HISTORY", None)
        folder = Path(tmp) / "files"
        folder.mkdir()
        block = os.urandom(args.size)
        for i in range(args.files):
            (folder / f"file-{i:06}.bin").write_bytes(block)
        from poolside.spec import JobSpec
        from poolside.system import system_info

        cores = system_info().usable_cores
        spec = JobSpec("sha256", paths=(str(folder),), recursive=True, backend="processes", workers=cores)
        prepared = spec.prepare()
        files = list(prepared.items)
        rows = [_case(f"sha256, {len(files):,} files of {args.size:,} B, processes x{cores}", prepared.task, files,
                      "processes", cores, spec, args.repeats)]
        tiny_spec = JobSpec("square", paths=("-",), backend="threads", workers=cores)
        items = [f"item-{i}" for i in range(args.tiny)]  # text items: what a path-like record costs
        rows.append(_case(f"tiny items (x*x), {args.tiny:,}, threads x{cores}", _square_text, items,
                          "threads", cores, tiny_spec, args.repeats))
    print(f"{'case':<52} {'plain':>8} {'recorded':>9} {'overhead':>9} {'fastest plain/rec.':>19} "
          f"{'recording CPU':>14}")
    for r in rows:
        print(f"{r['case']:<52} {r['plain_s']:>7.3f}s {r['recorded_s']:>8.3f}s {r['overhead']:>+8.1%} "
              f"{r['plain_min']:>8.3f}s/{r['recorded_min']:.3f}s {r['cpu_s']:>7.3f}s {r['cpu_share']:>5.1%}")
    print("recording CPU: the engine thread's queueing plus the writer thread's own CPU time, per run (median),")
    print("and as a share of the plain run's wall time: the cost that a busy shared machine does not blur.")
    print(f"(medians of {args.repeats} alternating runs each; python {sys.version.split()[0]})")
    return 0


def _square_text(item: str) -> int:
    return len(item) * len(item)


if __name__ == "__main__":
    raise SystemExit(main())
