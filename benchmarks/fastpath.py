"""``python -m benchmarks.fastpath``: the engine's fast-path rows, Poolside against the best peer of the same run.

    python -m benchmarks.fastpath                       # ~3-5 minutes on 2 shared cores
    python -m benchmarks.fastpath --repeats 5 --json after.json --compare before.json
    python -m benchmarks.fastpath --only hash,tiny

One command, one table::

    workload                         Poolside            best peer (same run)     gap
    1,000 x 64 KiB sha256, cold      speed-up incl.      Pool.map / ThreadPool    Poolside / best
                                     start-up
    ... warm, tiny x*x, 1 M lazy items (wall + peak tree RSS), 400 x 20 ms sleeps

Every figure is the median of interleaved repeats (contenders take turns, each
repeat in a fresh process: ``benchmarks.child``), so noise from the other
tenants of this shared machine lands on every contender alike.  The verdicts
are ratios against peers measured in the same run; the load average at the
start and at the end says how calm the run was.

*cold* is what one ``poolside run`` from the command line pays: the first
``run()`` in a fresh process, worker start-up inside the clock (peers: creating
their pool inside the clock).  *warm* is a later ``run()`` on parked workers
(peers: a started pool that has run a small warm-up batch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import fmt_rate, render_table
from benchmarks.suite import Config, Entry, Measured, make_files, measure
from poolside.words.units import human_bytes, human_duration

# --------------------------------------------------------------------------
# One row of the fast-path table


@dataclass
class Row:
    """One figure: Poolside's, the best peer's, and which way is better."""

    key: str
    workload: str
    unit: str  # "x" (speed-up), "/s", "s", "MB", "%"
    poolside: float | None
    peer: float | None
    peer_label: str
    higher: bool  # higher is better
    target: float | None = None  # Poolside/peer (or peer/Poolside when lower is better) to reach

    @property
    def gap(self) -> float | None:
        """How Poolside compares with the best peer: > 1 is better than it, whatever the unit."""
        if not self.poolside or not self.peer:
            return None
        return self.poolside / self.peer if self.higher else self.peer / self.poolside

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "-"
        if self.unit == "x":
            return f"{value:.2f}x"
        if self.unit == "/s":
            return f"{fmt_rate(value)}/s"
        if self.unit == "s":
            return human_duration(value)
        if self.unit == "MB":
            return f"{value:.0f} MB"
        return f"{value:.0f} %"

    def cells(self) -> list[str]:
        gap = self.gap
        word = ""
        if gap is not None and self.target is not None:
            word = "PASS" if gap >= self.target else "MISS"
        return [self.workload, self.fmt(self.poolside), f"{self.fmt(self.peer)} {self.peer_label}".strip(),
                f"{gap:.2f}x" if gap else "-", f">= {self.target:.2f}x" if self.target else "", word]


def _best(got: dict[str, Measured], ids: list[str], value: Callable[[Measured], float | None],
          higher: bool) -> tuple[float | None, str]:
    scored = [(v, got[i].entry.label) for i in ids if i in got and (v := value(got[i])) is not None]
    if not scored:
        return None, ""
    return max(scored) if higher else min(scored)


def _speedup(base: float | None, seconds: float | None) -> float | None:
    return base / seconds if base and seconds else None


# --------------------------------------------------------------------------
# The four fast-path workloads


def hashing(cfg: Config, out: list[Row], details: list[str]) -> dict:
    count, size = 1000, 64 * 1024
    w = cfg.workers
    folder = cfg.tmp / "files"
    if not folder.exists():
        make_files(folder, count, size)
    entries = [
        Entry("sequential", "sequential loop", "sequential"),
        Entry("poolside", f"Poolside processes x{w}", "poolside"),
        Entry("poolside-threads", f"Poolside threads x{w}", "poolside", {"backend": "threads"}),
        Entry("pool-map", "Pool.map (fork)", "mp_pool", {"method": "map"}),
        Entry("threadpool", "ThreadPool.map", "mp_pool", {"threads": True, "method": "map"}),
        Entry("tpe", "ThreadPoolExecutor.map", "executor", {"threads": True}),
        Entry("joblib", "joblib (loky)", "joblib"),
        # In a caller that already runs a second thread, where forking is unsafe.
        Entry("poolside-threaded", f"Poolside processes x{w}, threaded caller", "poolside", {"threaded": True}),
        Entry("pool-forkserver-threaded", "Pool.map (forkserver), threaded caller", "mp_pool",
              {"method": "map", "start": "forkserver", "threaded": True}),
    ]
    cfg.log(f"hash: {count:,} x {size // 1024} KiB sha256")
    got = measure(cfg, entries, {"mode": "timed", "task": "sha256_file", "numeric": False,
                                 "warmup": {"type": "files", "dir": str(folder), "n": 4 * w}},
                  count, cfg.reps(5, 2), cfg.pick(5, 2), limit_s=120,
                  items=lambda k: {"type": "files", "dir": str(folder), "n": k},
                  expect=lambda k: {"count": k})
    base = got["sequential"].all_s
    # Each backend against the peers of its kind: processes against process
    # pools, threads against the thread pool (hashlib releases the GIL).
    for phase, pick in (("cold", lambda m: m.cold_s), ("warm", lambda m: m.warm_s)):
        for hero, label, peers in (("poolside", "processes", ["pool-map", "joblib"]),
                                   ("poolside-threads", "threads", ["threadpool", "tpe"])):
            peer, peer_label = _best(got, peers, lambda m, p=pick: _speedup(base, p(m)), True)
            out.append(Row(f"hash-{phase}-{label}", f"{count:,} x 64 KiB sha256, {phase}, {label}",
                           "x", _speedup(base, pick(got[hero])), peer, peer_label, True,
                           target=1.0 if phase == "cold" else None))
        if phase == "cold":
            out.append(Row("hash-cold-single", f"{count:,} x 64 KiB sha256, cold, processes vs Pool(fork)",
                           "x", _speedup(base, got["poolside"].cold_s), _speedup(base, got["pool-map"].cold_s),
                           got["pool-map"].entry.label, True, target=0.9))
            out.append(Row("hash-cold-threaded", f"{count:,} x 64 KiB sha256, cold, processes, threaded caller",
                           "x", _speedup(base, got["poolside-threaded"].cold_s),
                           _speedup(base, got["pool-forkserver-threaded"].cold_s),
                           got["pool-forkserver-threaded"].entry.label, True, target=1.0))
            out.append(Row("hash-cold-vs-seq", f"{count:,} x 64 KiB sha256, cold, processes vs the plain loop",
                           "x", _speedup(base, got["poolside"].cold_s), 1.0, "sequential", True, target=1.0))
    details += _detail("hash: seconds, and speed-up over the sequential loop "
                       f"({human_duration(base)})", entries, got,
                       lambda m: [human_duration(m.cold_s), human_duration(m.warm_s),
                                  _x(_speedup(base, m.cold_s)), _x(_speedup(base, m.warm_s))],
                       ["cold", "warm", "speed-up cold", "speed-up warm"])
    details += [price for hero in ("poolside", "poolside-threads") if (price := got[hero].price_line())]
    return {k: v.as_json() for k, v in got.items()}


def tiny(cfg: Config, out: list[Row], details: list[str]) -> dict:
    n = cfg.pick(200_000, 100_000)
    w = cfg.workers
    entries = [
        Entry("poolside", f"Poolside processes x{w}", "poolside"),
        Entry("poolside-batches", f"Poolside processes x{w}, job.batches()", "poolside", {"batches": True}),
        Entry("poolside-threads", f"Poolside threads x{w}", "poolside", {"backend": "threads"}),
        Entry("pool-map", "Pool.map (eager)", "mp_pool", {"method": "map"}),
        Entry("pool-imap", "Pool.imap_unordered(1000)", "mp_pool",
              {"method": "imap_unordered", "chunksize": 1000}),
        Entry("threadpool", "ThreadPool.map", "mp_pool", {"threads": True, "method": "map"}),
        Entry("joblib", "joblib (loky)", "joblib"),
    ]
    cfg.log(f"tiny: {n:,} x*x")
    got = measure(cfg, entries, {"mode": "timed", "task": "square", "numeric": True,
                                 "warmup": {"type": "range", "n": 1000}},
                  n, cfg.reps(5, 2), cfg.pick(3, 2), limit_s=180,
                  items=lambda k: {"type": "range", "n": k},
                  expect=lambda k: {"count": k, "total": (k - 1) * k * (2 * k - 1) // 6})

    def rate(m: Measured, phase: str = "warm") -> float | None:
        s = m.warm_s if phase == "warm" else m.cold_s
        return m.n / s if s else None

    for hero, label, peers in (("poolside", "processes", ["pool-map", "pool-imap"]),
                               ("poolside-batches", "processes, job.batches()", ["pool-map", "pool-imap"]),
                               ("poolside-threads", "threads", ["threadpool"])):
        peer, peer_label = _best(got, peers, rate, True)
        out.append(Row(f"tiny-{label}", f"{n:,} x*x warm, {label}, items/s", "/s",
                       rate(got[hero]), peer, peer_label, True,
                       target={"processes": 0.45, "processes, job.batches()": 0.6}.get(label)))
    out.append(Row("tiny-joblib", f"{n:,} x*x warm, processes vs joblib", "/s", rate(got["poolside"]),
                   rate(got["joblib"]), "joblib (loky)", True, target=3.5))
    details += _detail(f"tiny: {n:,} x*x, items/s", entries, got,
                       lambda m: [f"{fmt_rate(rate(m, 'cold'))}/s", f"{fmt_rate(rate(m))}/s"],
                       ["cold", "warm"])
    return {k: v.as_json() for k, v in got.items()}


def lazy(cfg: Config, out: list[Row], details: list[str]) -> dict:
    n = cfg.pick(1_000_000, 200_000)
    w = cfg.workers
    entries = [
        Entry("poolside", f"Poolside processes x{w}", "poolside"),
        Entry("pool-imap", "Pool.imap_unordered(1000)", "mp_pool",
              {"method": "imap_unordered", "chunksize": 1000}),
        Entry("poolside-batches", f"Poolside processes x{cfg.workers}, job.batches()", "poolside",
              {"batches": True}),
        Entry("sequential", "sequential loop", "sequential"),
    ]
    cfg.log(f"lazy: {n:,} items from a generator")
    got = measure(cfg, entries, {"mode": "timed", "task": "square", "numeric": True}, n,
                  cfg.reps(3, 1), 0, limit_s=180, sample_memory=True,
                  items=lambda k: {"type": "lazy", "n": k},
                  expect=lambda k: {"count": k, "total": (k - 1) * k * (2 * k - 1) // 6})
    ps, peer = got["poolside"], got["pool-imap"]
    out.append(Row("lazy-time", f"{n:,} lazy items, wall (cold)", "s", ps.cold_s, peer.cold_s,
                   peer.entry.label, False, target=1 / 2.5))
    out.append(Row("lazy-time-batches", f"{n:,} lazy items, wall (cold), job.batches()", "s",
                   got["poolside-batches"].cold_s, peer.cold_s, peer.entry.label, False, target=1 / 1.5))
    rss = {k: statistics.median(m.peak_rss) / 2**20 if m.peak_rss else None for k, m in got.items()}
    out.append(Row("lazy-memory", f"{n:,} lazy items, peak RSS of the process tree", "MB",
                   rss["poolside"], rss["pool-imap"], peer.entry.label, False, target=0.8))
    details += _detail(f"lazy: {n:,} items, wall and the process tree's peak RSS (median)", entries, got,
                       lambda m: [human_duration(m.cold_s),
                                  human_bytes(statistics.median(m.peak_rss)) if m.peak_rss else "-"],
                       ["wall", "peak RSS"])
    if ps.peak_parts:
        parts = max(ps.peak_parts, key=lambda p: sum(s for _, s in p))
        details.append("Poolside's tree at its worst peak: "
                       + ", ".join(f"{what} {human_bytes(size)}" for what, size in parts) + ".")
    if ps.peak_rss:
        details.append(f"Poolside's worst peak {human_bytes(max(ps.peak_rss))} (the target: under 90 MB).")
    return {k: v.as_json() for k, v in got.items()}


def sleep(cfg: Config, out: list[Row], details: list[str]) -> dict:
    count, nap_s, threads = 400, 0.02, 64
    ideal = -(-count // threads) * nap_s
    entries = [
        Entry("poolside", f"Poolside threads x{threads}", "poolside", {"backend": "threads"}),
        Entry("tpe", "ThreadPoolExecutor.map", "executor", {"threads": True}),
        Entry("threadpool", "ThreadPool.map", "mp_pool", {"threads": True, "method": "map"}),
    ]
    for e in entries:
        e.workers = threads
    cfg.log(f"sleep: {count} x {nap_s * 1000:.0f} ms on {threads} threads")
    got = measure(cfg, entries, {"mode": "timed", "task": "nap", "numeric": False,
                                 "warmup": {"type": "repeat", "value": nap_s, "n": threads}},
                  count, cfg.reps(5, 2), cfg.pick(4, 2), limit_s=120,
                  items=lambda k: {"type": "repeat", "value": nap_s, "n": k}, expect=lambda k: {"count": k})

    def eff(m: Measured, phase: str = "warm") -> float | None:
        s = m.warm_s if phase == "warm" else m.cold_s
        return 100 * ideal / s if s else None

    peer, peer_label = _best(got, ["tpe", "threadpool"], eff, True)
    out.append(Row("sleep", f"{count} x {nap_s * 1000:.0f} ms sleeps on {threads} threads, efficiency (warm)",
                   "%", eff(got["poolside"]), peer, peer_label, True, target=1.0))
    details += _detail(f"sleep: % of the ideal {human_duration(ideal)}", entries, got,
                       lambda m: [f"{eff(m, 'cold') or 0:.0f} %", f"{eff(m) or 0:.0f} %"], ["cold", "warm"])
    if (price := got["poolside"].price_line()) is not None:
        details.append(price)
    return {k: v.as_json() for k, v in got.items()}


def cli(cfg: Config, out: list[Row], details: list[str]) -> dict:
    """A shell user: one ``poolside run`` from a shell, interpreter start and imports included."""
    import subprocess

    count = 1000
    folder = cfg.tmp / "files"
    if not folder.exists():
        make_files(folder, count, 64 * 1024)
    exe = Path(sys.executable).with_name("poolside")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "poolside"]
    backends = ["sequential", "processes", "threads"]
    samples: dict[str, list[float]] = {b: [] for b in backends}
    cfg.log(f"cli: poolside run over {count:,} files, one process per call")
    for _ in range(cfg.reps(5, 2)):
        for backend in backends:
            t0 = time.perf_counter()
            done = subprocess.run([*base, "run", str(folder), "-r", "-p", "sha256", "-q", "-b", backend,
                                   "-w", str(1 if backend == "sequential" else cfg.workers)],
                                  capture_output=True, text=True)
            if done.returncode == 0:
                samples[backend].append(time.perf_counter() - t0)
    med = {b: statistics.median(v) if v else None for b, v in samples.items()}
    for backend in ("processes", "threads"):
        out.append(Row(f"cli-{backend}", f"one 'poolside run' over {count:,} files (whole call), {backend}",
                       "s", med[backend], med["sequential"], "the same call, sequential", False, target=1.0))
    details += ["", "cli: one 'poolside run -p sha256' per process, wall time of the whole call",
                *render_table(["backend", "wall (median)"], [[b, human_duration(med[b])] for b in backends])]
    return {b: v for b, v in samples.items()}


def _x(value: float | None) -> str:
    return f"{value:.2f}x" if value else "-"


def _detail(title: str, entries: list[Entry], got: dict[str, Measured],
            cells: Callable[[Measured], list[str]], headers: list[str]) -> list[str]:
    rows = []
    for e in entries:
        m = got[e.id]
        rows.append([e.label, m.failed] if m.failed else [e.label, *cells(m)])
    return ["", title, *render_table(["contender", *headers], rows)]


WORKLOADS: dict[str, Callable[[Config, list[Row], list[str]], dict]] = {
    "hash": hashing, "cli": cli, "tiny": tiny, "lazy": lazy, "sleep": sleep,
}


# --------------------------------------------------------------------------
# The command


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def summary_table(rows: list[Row]) -> list[str]:
    return render_table(["workload", "Poolside", "best peer (same run)", "gap (>1: Poolside better)",
                         "target", ""], [r.cells() for r in rows], "lrrrrl")


def compare_table(before: dict, rows: list[Row]) -> list[str]:
    """Before/after: each run's figures and gap, the gap being the ratio that is comparable across runs."""
    old = {r["key"]: r for r in before.get("rows", [])}
    lines = []
    for r in rows:
        b = old.get(r.key)
        b_row = Row(**b) if b else None
        lines.append([r.workload,
                      b_row.fmt(b_row.poolside) if b_row else "-",
                      f"{b_row.gap:.2f}x" if b_row and b_row.gap else "-",
                      r.fmt(r.poolside), f"{r.gap:.2f}x" if r.gap else "-"])
    return render_table(["workload", "before", "gap before", "after", "gap after"], lines, "lrrrr")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpath",
                                     description="The fast-path rows with the best peer of the same run.")
    parser.add_argument("--only", metavar="NAME[,NAME]", help=f"some of: {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, metavar="N", help="fresh processes per contender (default 5; "
                        "3 for lazy)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and items: a smoke run")
    parser.add_argument("--workers", type=int, metavar="N", help="process workers (default: usable cores)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the rows and every sample")
    parser.add_argument("--compare", type=Path, metavar="FILE", help="a --json file of an earlier run: "
                        "print before/after")
    args = parser.parse_args(argv)
    names = [n.strip() for n in (args.only or ",".join(WORKLOADS)).split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    args.only = names
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    from poolside.backends.workers import default_method
    from poolside.system import system_info

    workers = args.workers or system_info().usable_cores
    start_load = _load()
    print(f"Fast-path rows, {time.strftime('%Y-%m-%d %H:%M:%S')}; Poolside starts workers with "
          f"'{default_method()}' here (each measurement is a fresh one-thread process), peers with their "
          f"defaults; {workers} process workers; {start_load} at the start.", flush=True)
    rows: list[Row] = []
    details: list[str] = []
    data: dict = {}

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="poolside-fastpath-") as tmp:
        cfg = Config(quick=args.quick, repeats=args.repeats, workers=workers, tmp=Path(tmp), log=log)
        for name in args.only:
            data[name] = WORKLOADS[name](cfg, rows, details)
    end_load = _load()
    print("\n".join(details))
    print("\nFast path: Poolside against the best peer of this run (medians of interleaved repeats)")
    print("\n".join(summary_table(rows)))
    print(f"\n{time.perf_counter() - t0:.0f} s; {end_load} at the end.")
    if args.compare:
        print(f"\nBefore ({args.compare}) and after (this run); the gaps are the comparable figures:")
        print("\n".join(compare_table(json.loads(args.compare.read_text()), rows)))
    if args.json:
        args.json.write_text(json.dumps({"rows": [r.__dict__ for r in rows], "load": [start_load, end_load],
                                         "workers": workers, "data": data}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
