"""Does the window stay responsive while 200,000 tiny results stream in?

Runs the real engine through the real bridge into the real window (results
table, filter proxy, timeline, progress) offscreen, while a heartbeat
``QTimer`` measures how late the event loop gets to it: the worst stall must
stay under 100 ms.  Also reports how long after the engine's last outcome the
table shows its last row.

    python benchmarks/gui_responsiveness.py [--items 200000] [--backend processes]
                                            [--sorted] [--filter TEXT] [--cpu-tab 0|1|2] [--json]

``--backend all`` measures processes and threads one after the other.  Exit
status 1 when a worst stall is 100 ms or more, or rows went missing.

The run executes in this process (the window's ``runner`` stand-in for
``poolside.run``, which times the engine's last outcome), as the window did
before the run host; ``window_stalls.py`` compares this with the window as it
ships, its runs in a run host.  On threads, the engine's worker threads run
the (pure Python) task in this process and share the GIL with the GUI thread,
so stalls there are the GIL's as much as the window's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMIT_MS = 100.0
HEARTBEAT_MS = 5


def measure(items: int, backend: str, workers: int | None, sort: bool, text: str, cpu_tab: int = 0) -> dict:
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import poolside
    from poolside.gui.main_window import MainWindow
    from poolside.spec import JobSpec

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "poolside.ini"), QSettings.Format.IniFormat)

    last_outcome_at = [0.0]

    def runner(task, items_, **kwargs):
        on_outcomes = kwargs.pop("on_outcomes")

        def timed(batch):  # the engine's thread: note when the last batch left it
            on_outcomes(batch)
            last_outcome_at[0] = time.perf_counter()

        return poolside.run(task, items_, on_outcomes=timed, **kwargs)

    window = MainWindow(settings, plugins=([], []), runner=runner)
    window.resize(1280, 800)
    window.show()
    from poolside.gui.app import freeze_startup_heap

    freeze_startup_heap()  # as the window's main() does
    window.run_ws.backend.set_backend(backend)
    window.run_ws.backend.workers.setValue(workers or 0)
    cores = getattr(window.run_ws.cores, "tabs", None)  # the CPU history views (Machine, Per core, Workers)
    if cores is not None:
        cores.setCurrentIndex(cpu_tab)
    if sort:
        window.run_ws.results.view.sortByColumn(window.run_ws.results.model.time_column, Qt.SortOrder.DescendingOrder)
    if text:
        window.run_ws.results.text_filter.setText(text)
        window.run_ws.results.proxy.set_text(text)
    app.processEvents()

    stalls: list[float] = []
    big: list[tuple[float, float]] = []  # (ms since start, stall ms) of stalls over 20 ms
    last_beat = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        stall = (now - last_beat[0]) * 1000 - HEARTBEAT_MS
        stalls.append(stall)
        if stall > 20:
            big.append((round((last_beat[0] - t0) * 1000), round(stall, 1)))
        last_beat[0] = now

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)

    last_row_at = [0.0]
    model = window.run_ws.results.model

    def rows_in(*_args) -> None:
        if model.rowCount() == items:
            last_row_at[0] = time.perf_counter()

    model.rowsInserted.connect(rows_in)
    done: list = []
    window.runFinished.connect(done.append)

    t0 = time.perf_counter()
    heartbeat.start()
    last_beat[0] = time.perf_counter()
    spec = JobSpec("abs", backend=backend, workers=workers or None)
    if not window.run_ws.launch(spec, abs, list(range(items)), f"abs over {items:,} integers"):
        raise SystemExit("could not start the run")
    loop = QEventLoop()
    window.runFinished.connect(lambda _s: loop.quit())
    if not done:
        loop.exec()
    finished_at = time.perf_counter()
    heartbeat.stop()
    # Let the last paint happen, as a user would see it.
    app.processEvents()
    summary = done[0]
    shot = os.environ.get("POOLSIDE_BENCH_SHOT")
    if shot:
        window.grab().save(shot)
    window.close()
    return {
        "items": items,
        "backend": backend,
        "workers": summary.workers,
        "sorted": sort,
        "filter": text,
        "rows_in_table": model.rowCount(),
        "engine_wall_s": round(summary.wall_s, 3),
        "window_total_s": round(finished_at - t0, 3),
        "worst_stall_ms": round(max(stalls) if stalls else 0.0, 1),
        "p99_stall_ms": round(sorted(stalls)[int(len(stalls) * 0.99)] if stalls else 0.0, 1),
        "heartbeats": len(stalls),
        "last_outcome_to_last_row_ms": round((last_row_at[0] - last_outcome_at[0]) * 1000, 1),
        "engine_done_at_ms": round((last_outcome_at[0] - t0) * 1000),
        "stalls_over_20ms": big,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--backend", default="processes", help="a backend name, or 'all'")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--sorted", action="store_true", help="sort the table by time while streaming")
    ap.add_argument("--filter", default="", help="a text filter active while streaming")
    ap.add_argument("--cpu-tab", type=int, default=0,
                    help="which CPU view is on screen while streaming: 0 machine, 1 per core, 2 workers")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    backends = ["processes", "threads"] if args.backend == "all" else [args.backend]
    status = 0
    for backend in backends:
        result = measure(args.items, backend, args.workers, args.sorted, args.filter, args.cpu_tab)
        report(result, args)
        if result["worst_stall_ms"] >= LIMIT_MS or result["rows_in_table"] != args.items:
            status = 1
    return status


def report(result: dict, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['items']:,} results on {result['backend']} x{result['workers']}"
            f"{' (table sorted)' if args.sorted else ''}{' (filtered)' if args.filter else ''}: "
            f"engine {result['engine_wall_s']} s, window {result['window_total_s']} s; "
            f"worst event-loop stall {result['worst_stall_ms']} ms (p99 {result['p99_stall_ms']} ms, "
            f"{result['heartbeats']} heartbeats); last outcome -> last row "
            f"{result['last_outcome_to_last_row_ms']} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
