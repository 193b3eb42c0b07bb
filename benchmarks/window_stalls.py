"""How long the window's event loop stalls while a run goes on, in the window's process or in the run host.

A 10 ms heartbeat ``QTimer`` in the real window (offscreen) records how late
each beat comes; the worst lateness is the longest stall a person would feel
(the issue's target: under 50 ms, goal 33 ms).  Every scenario runs twice:

* ``in-process``: the engine in the window's process (``MainWindow(runner=poolside.run)``,
  what the window did before the run host);
* ``host``: the window as it ships, the run in a warm run host.

Scenarios, per backend (sequential, threads x8, processes):

* ``stream``: 200,000 tiny results (``abs`` over integers) stream into the table;
* ``cpu``: pure-Python items (``primes``) keep the workers busy (8 threads on threads).

And the first-outcome latency of a small run (12 files, ``wordcount``), warm,
median of 7: in-process vs host.

    python -m benchmarks.window_stalls [--items 200000] [--cpu-items 96] [--limit 30000]
                                       [--only stream,cpu,latency] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HEARTBEAT_MS = 10
TARGET_MS = 50.0
BACKENDS = (("sequential", 1), ("threads", 8), ("processes", None))


def _window(mode: str) -> Any:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    import poolside
    from poolside.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "poolside.ini"), QSettings.Format.IniFormat)
    runner = poolside.run if mode == "in-process" else None
    window = MainWindow(settings, plugins=([], []), runner=runner)
    window.resize(1280, 800)
    window.show()
    from poolside.gui.app import freeze_startup_heap

    freeze_startup_heap()  # as the window's main() does
    window.warm()  # as the window's main() does
    if mode == "host":
        window.bridge._client.wait_ready(30)
    app.processEvents()
    return app, window


def _launch(window: Any, spec: Any, task: Any, items: list, label: str) -> bool:
    """Start a run in the window's Run workspace as its Run button would (the task bound already)."""
    # "cpu": primes is; the other runs give their worker counts.
    return bool(window.run_ws.launch(spec, task, items, label, bound="cpu"))


def _spec(plugin: str, backend: str, workers: int | None, **params: Any) -> Any:
    from poolside.spec import JobSpec

    return JobSpec(plugin, backend=backend, workers=workers, params=params)


def _run_with_heartbeat(app: Any, window: Any, spec: Any, task: Any, items: list, label: str) -> dict:
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    gaps: list[float] = []
    last = [0.0]

    big: list[tuple[int, float]] = []  # (ms after launch, stall ms) of stalls over 20 ms
    busy: list[float] = []  # CPU time the GUI thread itself spent between beats, ms
    last_cpu = [time.thread_time()]
    heavy: list[tuple[int, float]] = []  # (ms after launch, GUI thread CPU ms) over 8 ms

    def beat() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = (now - last[0]) * 1000 - HEARTBEAT_MS
        gaps.append(gap)
        busy.append((cpu - last_cpu[0]) * 1000)
        if busy[-1] > 8:
            heavy.append((round((last[0] - t0) * 1000), round(busy[-1], 1)))
        if gap > 20:
            big.append((round((last[0] - t0) * 1000), round(gap, 1)))
        last[0], last_cpu[0] = now, cpu

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    done: list = []
    loop = QEventLoop()
    window.runFinished.connect(done.append)
    window.runFinished.connect(lambda _s: loop.quit())
    t0 = time.perf_counter()
    last[0], last_cpu[0] = t0, time.thread_time()
    heartbeat.start()
    if not _launch(window, spec, task, items, label):
        raise SystemExit("could not start the run")
    if not done:
        loop.exec()
    heartbeat.stop()
    wall = time.perf_counter() - t0
    window.runFinished.disconnect()
    app.processEvents()
    summary = done[0]
    gaps.sort()
    return {
        "rows": len(window.run_ws.results.model), "ok": summary.counts.get("ok", 0), "wall_s": round(wall, 2),
        "worst_stall_ms": round(gaps[-1], 1) if gaps else None,
        "p99_stall_ms": round(gaps[int(len(gaps) * 0.99)], 1) if gaps else None,
        "beats": len(gaps), "stalls_over_20ms": big, "worst_busy_ms": round(max(busy, default=0.0), 1),
        "busy_over_8ms": heavy,
    }


def stalls(mode: str, scenario: str, backend: str, workers: int | None, args: argparse.Namespace) -> dict:
    from poolside.plugins import get_plugin

    app, window = _window(mode)
    if scenario == "stream":
        spec, task, items = _spec("abs", backend, workers), abs, list(range(args.items))
    else:
        spec = _spec("primes", backend, workers, limit=args.limit)
        task, items = get_plugin("primes").bind({"limit": args.limit}), [f"n{i}" for i in range(args.cpu_items)]
    try:
        result = _run_with_heartbeat(app, window, spec, task, items, f"{scenario} on {backend}")
    finally:
        window.close()
    return {"mode": mode, "scenario": scenario, "backend": backend,
            "workers": spec.resolved_workers("cpu"), **result}


def first_outcome_latency(mode: str, backend: str, repeats: int) -> dict:
    """Launch -> first row, and launch -> finished, of a warm 12-file wordcount run."""
    from PySide6.QtCore import QEventLoop

    from poolside.plugins import get_plugin

    folder = tempfile.mkdtemp()
    paths = []
    for i in range(12):
        path = os.path.join(folder, f"note{i}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("hello world\n" * (i + 1))
        paths.append(path)
    app, window = _window(mode)
    spec, task = _spec("wordcount", backend, 2), get_plugin("wordcount").bind({})
    firsts, totals = [], []
    try:
        for i in range(repeats + 1):
            t0 = time.perf_counter()
            first: list[float] = []
            loop = QEventLoop()

            def on_rows(_batch: list, first: list[float] = first) -> None:
                if not first:
                    first.append(time.perf_counter())

            window.bridge.outcomesReady.connect(on_rows)
            window.runFinished.connect(lambda _s, loop=loop: loop.quit())
            _launch(window, spec, task, paths, "wordcount")
            loop.exec()
            end = time.perf_counter()
            window.bridge.outcomesReady.disconnect(on_rows)
            window.runFinished.disconnect()
            if i:  # the first run warms the workers up
                firsts.append((first[0] - t0) * 1000)
                totals.append((end - t0) * 1000)
    finally:
        window.close()
    return {"mode": mode, "backend": backend, "first_row_ms": round(statistics.median(firsts), 1),
            "finished_ms": round(statistics.median(totals), 1)}


def cancel_latency(mode: str, backend: str, workers: int | None) -> dict:
    """Esc 0.3 s into a run of endless pure-Python items -> the run's end, in ms."""
    from PySide6.QtCore import QEventLoop, QTimer

    from poolside.plugins import get_plugin

    app, window = _window(mode)
    spec = _spec("primes", backend, workers, limit=100_000_000)
    task = get_plugin("primes").bind({"limit": 100_000_000})  # minutes an item
    ended: list[float] = []
    loop = QEventLoop()
    window.runFinished.connect(lambda _s: (ended.append(time.perf_counter()), loop.quit()))
    asked: list[float] = []

    def cancel() -> None:
        asked.append(time.perf_counter())
        window.run_ws.cancel_run()

    try:
        _launch(window, spec, task, [f"n{i}" for i in range(16)], "endless")
        QTimer.singleShot(300, cancel)
        loop.exec()
    finally:
        window.close()
    return {"mode": mode, "backend": backend, "cancel_ms": round((ended[0] - asked[0]) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--cpu-items", type=int, default=96)
    ap.add_argument("--limit", type=int, default=30_000, help="primes' limit: the size of a CPU item")
    ap.add_argument("--only", default="stream,cpu,latency,cancel")
    ap.add_argument("--modes", default="in-process,host")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; modes and backends take turns in each")
    ap.add_argument("--renice", type=int, default=None,
                    help="run the window at this nice value (negative needs privileges); the host stays "
                         "10 below it: on a machine shared with other work, this isolates the window's "
                         "own stalls from the other tenants' load")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one-cancel", default="", help=argparse.SUPPRESS)  # MODE,BACKEND,WORKERS: one, in this process
    args = ap.parse_args(argv)
    if args.one_cancel:
        mode, backend, workers = args.one_cancel.split(",")
        print(json.dumps(cancel_latency(mode, backend, int(workers) or None)), flush=True)
        return 0
    if args.renice is not None:
        os.setpriority(os.PRIO_PROCESS, 0, args.renice)
        try:  # Linux autogroups: nice counts only within a session; the session's own weighs against others
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(args.renice))
        except OSError:
            pass
    if not args.one_cancel:
        print(f"window at nice {os.getpriority(os.PRIO_PROCESS, 0)}; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores", flush=True)
    only = set(args.only.split(","))
    modes = args.modes.split(",")
    rows = []
    for _ in range(args.repeats):  # round-robin: a burst of load from elsewhere spreads over all
        for scenario in ("stream", "cpu"):
            if scenario not in only:
                continue
            for backend, workers in BACKENDS:
                for mode in modes:
                    row = stalls(mode, scenario, backend, workers, args)
                    rows.append(row)
                    print(json.dumps(row) if args.json else _line(row), file=sys.stderr, flush=True)
    if rows:
        print(_table(rows, modes))
    if "latency" in only:
        for backend in ("threads", "processes"):
            for mode in modes:
                row = first_outcome_latency(mode, backend, 7)
                print(json.dumps(row) if args.json else
                      f"12-file run on {backend:<10} {mode:<10}: first row {row['first_row_ms']:6.1f} ms, "
                      f"finished {row['finished_ms']:6.1f} ms (median of 7, warm)", flush=True)
    if "cancel" in only:
        for backend, workers in BACKENDS:
            for mode in modes:
                # A fresh process each: an in-process threads cancel leaves its
                # busy threads running, which would slow every later measurement.
                row = _one_cancel(mode, backend, workers)
                print(json.dumps(row) if args.json else
                      f"Esc during endless items on {backend:<10} {mode:<10}: run ended after "
                      f"{row['cancel_ms']:6.1f} ms", flush=True)
    worst = [r["worst_stall_ms"] for r in rows if r["mode"] == "host" and r["worst_stall_ms"] is not None]
    return 1 if worst and statistics.median(worst) >= TARGET_MS else 0


def _one_cancel(mode: str, backend: str, workers: int | None) -> dict:
    """``cancel_latency`` in a fresh process, read from its first line of output.

    Then the process is killed: after an in-process threads cancel its busy
    threads run on and can keep it from exiting for minutes (the issue itself).
    """
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.window_stalls", "--one-cancel",
                              f"{mode},{backend},{workers or 0}"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = next((text for text in child.stdout if text.startswith("{")), "{}")
    finally:
        child.kill()
        child.wait()
    return dict(json.loads(line))


def _table(rows: list[dict], modes: list[str]) -> str:
    """Per scenario and backend: the worst stall's median and best over the rounds, and the GUI's own CPU."""
    out = ["| scenario | backend | " + " | ".join(
        f"{m}: worst stall ms, median (best) | {m}: GUI thread busy ms" for m in modes) + " |",
        "|---|---|" + "---|---|" * len(modes)]
    keys = dict.fromkeys((r["scenario"], r["backend"], r["workers"]) for r in rows)
    for scenario, backend, workers in keys:
        cells = []
        for mode in modes:
            mine = [r for r in rows if (r["scenario"], r["backend"], r["mode"]) == (scenario, backend, mode)]
            worst = [r["worst_stall_ms"] for r in mine]
            busy = [r["worst_busy_ms"] for r in mine]
            cells.append(f"{statistics.median(worst):.0f} ({min(worst):.0f})")
            cells.append(f"{statistics.median(busy):.0f}")
        out.append(f"| {scenario} | {backend} x{workers} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _line(r: dict) -> str:
    return (f"{r['scenario']:<6} {r['backend']:<10} x{r['workers']:<2} {r['mode']:<10}: worst stall "
            f"{r['worst_stall_ms']:7.1f} ms, p99 {r['p99_stall_ms']:6.1f} ms ({r['beats']} beats, "
            f"{r['wall_s']} s, {r['rows']:,} rows); over 20 ms at (ms, stall): {r['stalls_over_20ms'][:8]}; "
            f"GUI thread busy over 8 ms at (ms, busy): {r['busy_over_8ms'][:8]}")


if __name__ == "__main__":
    sys.exit(main())
