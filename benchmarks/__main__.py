"""``python -m benchmarks``: Poolside and its peers on the suite's workloads, in one run.

    python -m benchmarks                  # the full suite (~5-8 minutes on 2 cores)
    python -m benchmarks --quick          # a smoke run (~1-2 minutes)
    python -m benchmarks --only tiny,lazy --repeats 5 --json results.json

The report goes to stdout, progress to stderr.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from benchmarks.report import render_table
from benchmarks.suite import WORKLOADS, Config


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _load_line(when: str) -> str:
    """The machine's load average: how much else was running (the verdicts are only as calm as it)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"Load average {when}: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores."


def header(workers: int) -> tuple[list[str], dict]:
    from poolside.backends.workers import start_method
    from poolside.system import system_info

    info = system_info()
    versions = {name: _version(name) for name in ("joblib", "loky", "mpire", "pebble", "psutil")}
    peers_method = multiprocessing.get_start_method()
    lines = [
        f"Poolside benchmarks, {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"Machine: {info.cpu_model}, {info.logical_cores} logical / {info.physical_cores} physical cores "
        f"({info.usable_cores} usable), {info.memory_bytes / 2**30:.1f} GiB, {info.platform}",
        f"Python {platform.python_version()}; " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"Start methods: peers use multiprocessing's default here, '{peers_method}' (joblib: its own "
        f"'loky'); Poolside forks its workers directly in a one-thread caller and uses '{start_method()}' "
        f"in a caller that runs threads (the 'threaded caller' rows, against Pool with the same).  "
        f"Process pools get {workers} workers.",
        "Every contender runs in its own fresh Python process, in turns.  cold = pool start-up + work + "
        "shut-down, for everyone (Poolside ends the workers its run parked); warm = the pool already "
        "started (Poolside: a run adopts the workers parked by the run before).  Figures are medians; "
        "every verdict is Poolside's figure over the best peer's measured in this run, ratio printed: "
        "no absolute wall-clock limit, no stored figure.",
    ]
    machine = {
        "cpu_model": info.cpu_model, "logical_cores": info.logical_cores,
        "physical_cores": info.physical_cores, "usable_cores": info.usable_cores,
        "memory_bytes": info.memory_bytes, "platform": info.platform,
        "python": platform.python_version(), "versions": versions,
        "peers_start_method": peers_method, "poolside_start_method": start_method(),
    }
    return lines, machine


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the same workloads through Poolside and its peers in one run; print medians, "
                    "ratios and PASS/MISS against the suite's targets.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller sizes: a smoke run of a minute or two")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help=f"run only these workloads: {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="fresh processes per contender and workload (default 3; --quick 1-2)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write machine-readable results")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="process workers for every contender (default: the usable cores)")
    args = parser.parse_args(argv)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
        args.only = names
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    from poolside.system import system_info

    workers = args.workers or system_info().usable_cores
    lines, machine = header(workers)
    lines.append(_load_line("at start"))
    print("\n".join(lines), flush=True)
    names = args.only or list(WORKLOADS)
    started = time.perf_counter()
    sections = []

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="poolside-bench-") as tmp:
        cfg = Config(quick=args.quick, repeats=args.repeats, workers=workers, tmp=Path(tmp), log=log)
        for name in names:
            t0 = time.perf_counter()
            section = WORKLOADS[name](cfg)
            section.line(f"({time.perf_counter() - t0:.0f} s for this workload)")
            sections.append(section)
            print("\n" + section.render(), flush=True)

    verdicts = [v for s in sections for v in s.verdicts]
    total = time.perf_counter() - started
    print("\nSummary")
    print("=======")
    print("\n".join(render_table(
        ["target", "result", "measured"],
        [[v.target, v.word, v.detail] for v in verdicts], "lll")))
    passed = sum(v.passed is True for v in verdicts)
    print(f"\n{passed} of {len(verdicts)} targets met; the suite took {total:.0f} s"
          f"{' (--quick)' if args.quick else ''}.  {_load_line('at the end')}")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine, "quick": args.quick, "repeats": args.repeats, "workers": workers,
            "seconds": total, "header": lines,
            "sections": [s.as_json() for s in sections],
            "verdicts": [v.__dict__ | {"result": v.word} for v in verdicts],
        }, indent=1, default=str))
        print(f"Results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
