"""One contender on one workload, in a fresh process: ``python -m benchmarks.child '<spec json>'``.

The parent (``benchmarks.harness``) starts one of these per measurement, so
every contender begins from the same fresh state (no pool, forkserver or
imported library left over from another), can be killed with its whole
process tree when it hangs, and has its tree's memory measured alone.

It writes its results to stdout as lines ``@@bench {json}``, each flushed at
once, so that the parent still has everything reported before a hang.

Timed mode (``"mode": "timed"``)::

    cold:  open the pool, run every item, close the pool      (one sample)
    warm:  open a new pool, one small untimed warm-up run,
           then ``warm_runs`` timed runs on that started pool (one sample each)

For Poolside (and the sequential loop) there is no pool to open: its cold run
starts the forkserver and its workers inside ``run()``; each warm run is a
whole ``run()`` again, with its worker start-up and shut-down, with the
forkserver already up.

Resilience mode (``"mode": "resilience"``) runs the faulty batch ``runs``
times in the same process, each time from creating the pool to shutting it
down: the first run is cold, the second warm (Poolside's forkserver is up).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from typing import Any

MARK = "@@bench "


def emit(record: dict) -> None:
    sys.stdout.write(MARK + json.dumps(record) + "\n")
    sys.stdout.flush()


def own_rss() -> int:
    """This process's resident memory, without importing psutil (it would count too)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def make_items(spec: dict) -> Iterable[Any]:
    kind = spec["type"]
    n = spec["n"]
    if kind == "range":
        return list(range(n))
    if kind == "lazy":
        return (i for i in range(n))  # a generator: no len(), read as it goes
    if kind == "repeat":
        return [spec["value"]] * n
    if kind == "files":
        names = sorted(os.listdir(spec["dir"]))[:n]
        return [os.path.join(spec["dir"], name) for name in names]
    raise ValueError(f"unknown items spec {spec!r}")


def _second_thread() -> None:
    """Start a thread that waits for the process to end, before anything is imported or timed.

    Any second thread is enough to make a fork unsafe (numpy's BLAS pool, a
    logging or watchdog thread, a GUI): a contender must then start its workers
    some other way, and this is how the suite puts a contender in that caller.
    """
    import threading

    threading.Thread(target=threading.Event().wait, name="caller's other thread", daemon=True).start()


def timed(spec: dict) -> None:
    from benchmarks import workloads
    from benchmarks.contenders import KINDS

    task = getattr(workloads, spec["task"])
    opts = dict(spec.get("opts", {}))
    if opts.pop("threaded", False):
        _second_thread()
    contender = KINDS[spec["kind"]](task, spec["workers"], spec["numeric"], **opts)
    expect = spec.get("expect") or {}

    def check(result: tuple[int, int]) -> None:
        count, total = result
        if "count" in expect and count != expect["count"]:
            raise RuntimeError(f"got {count} results, expected {expect['count']}")
        if "total" in expect and total != expect["total"]:
            raise RuntimeError(f"results add up to {total}, expected {expect['total']}")

    items_spec = spec["items"]
    items = make_items(items_spec)
    contender.prepare()
    emit({"ev": "ready", "rss": own_rss()})
    clock = time.perf_counter

    t0 = clock()
    handle = contender.open()
    result = contender.run(handle, items)
    contender.close(handle)
    t1 = clock()
    check(result)
    emit({"ev": "sample", "phase": "cold", "s": t1 - t0, "count": result[0]})

    warm_runs = spec.get("warm_runs", 0)
    if not warm_runs:
        return
    handle = contender.open()
    if contender.has_pool:
        contender.run(handle, make_items(spec["warmup"]))
    warm: list[float] = []
    for _ in range(warm_runs):
        items = make_items(items_spec)
        t0 = clock()
        result = contender.run(handle, items)
        t1 = clock()
        check(result)
        warm.append(t1 - t0)
        emit({"ev": "sample", "phase": "warm", "s": t1 - t0, "count": result[0]})
    if warm and hasattr(contender, "price"):
        emit({"ev": "price", **contender.price(sorted(warm)[len(warm) // 2])})
    contender.close(handle)


def resilience(spec: dict) -> None:
    """Run the contender ``runs`` times in this process: the first is cold, the next warm.

    Every item is reported as it arrives, tagged with its run, so that the
    parent still counts what was delivered when a run hangs and is killed.
    """
    import importlib

    from benchmarks import workloads
    from benchmarks.contenders import RESILIENCE, RESILIENCE_MODULES

    task = getattr(workloads, spec["task"])
    for name in RESILIENCE_MODULES[spec["kind"]]:
        importlib.import_module(name)
    clock = time.perf_counter
    emit({"ev": "ready", "rss": own_rss()})
    for run in range(spec.get("runs", 1)):
        t0 = clock()

        def report(kind: str, item: int, detail: str, _run: int = run, _t0: float = t0) -> None:
            emit({"ev": "item", "run": _run, "kind": kind, "i": item, "t": clock() - _t0,
                  "detail": detail})

        RESILIENCE[spec["kind"]](task, spec["n"], spec.get("timeout"), report, spec.get("workers", 2))
        emit({"ev": "end", "run": run, "t": clock() - t0})


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    try:
        if spec["mode"] == "timed":
            timed(spec)
        else:
            resilience(spec)
    except BaseException as exc:
        emit({"ev": "error", "msg": f"{type(exc).__name__}: {exc}"[:500]})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
