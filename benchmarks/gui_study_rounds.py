"""What one live round costs the GUI thread: the Compare view fed a study's numbers so far.

Each interleaved round of a study sends every repeated configuration's numbers
so far (``StudyModel.set_round``); the view then updates the table in place and
redraws the bar chart, whiskers and scaling chart.  This times, per round, the
model update with the table (synchronous) and the chart redraw plus one repaint
of the 1280x800 window (what the throttled redraw then costs), in wall and in the
GUI thread's own CPU time, for 24 and 48 configurations.  Then one turn of the
event loop: pyqtgraph and the table defer part of their work (axis pictures,
layouts, queued repaints) to it, so ``deferred_ms`` and ``gui_cpu_with_deferred_ms``
count it too (the throttled redraw's own timer is stopped, it was just run by hand).

    python benchmarks/gui_study_rounds.py [--configs 24,48] [--rounds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configs_for(n: int, round_no: int) -> list[Any]:
    """``n`` configurations after ``round_no`` rounds (numbers wobble from round to round)."""
    from tests.study_fakes import wide

    return wide(n, wobble=round_no)


def measure(n: int, rounds: int) -> dict[str, Any]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow
    from poolside.study import Round
    from tests.study_fakes import FakeStudyClient

    app = QApplication.instance() or QApplication([])
    client = FakeStudyClient()
    w = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "p.ini"), QSettings.Format.IniFormat),
                   study_client=client, history=None)
    w.confirm_close = lambda: True  # no question on close
    w.resize(1280, 800)
    w.show()
    w.run_ws.files.add_paths([str(ROOT / "README.md")])
    w.run_ws.task.select("wordcount")
    w.tabs.setCurrentWidget(w.compare_ws)
    app.processEvents()
    assert w.compare_ws.start_study()
    view = w.compare_ws.view
    model_ms, redraw_ms, paint_ms, cpu_ms, deferred_ms, total_ms = [], [], [], [], [], []
    for r in range(1, rounds + 1):
        payload = Round(r, rounds, configs_for(n, r))
        c0, t0 = time.thread_time(), time.perf_counter()
        client.round(payload)  # model + table (+ the first draw at once)
        t1 = time.perf_counter()
        view._redraw()  # what the throttled timer runs
        t2 = time.perf_counter()
        w.repaint()  # the window painted with the new bars
        t3, c3 = time.perf_counter(), time.thread_time()
        view._redraw_timer.stop()  # just run by hand
        app.processEvents()  # what pyqtgraph and the table left for the event loop
        c4 = time.thread_time()
        if r > 1:  # the first round builds rows and items once
            model_ms.append((t1 - t0) * 1000)
            redraw_ms.append((t2 - t1) * 1000)
            paint_ms.append((t3 - t2) * 1000)
            cpu_ms.append((c3 - c0) * 1000)
            deferred_ms.append((c4 - c3) * 1000)
            total_ms.append((c4 - c0) * 1000)
    assert view.chart.bar_count == n
    client.finish(None)
    w.run_ws.files.shutdown()
    w.close()
    return {"configs": n, "rounds": rounds - 1, "model+table_ms": round(statistics.median(model_ms), 2),
            "chart_redraw_ms": round(statistics.median(redraw_ms), 2),
            "repaint_ms": round(statistics.median(paint_ms), 2),
            "gui_cpu_per_round_ms": round(statistics.median(cpu_ms), 2),
            "worst_gui_cpu_ms": round(max(cpu_ms), 2), "deferred_ms": round(statistics.median(deferred_ms), 2),
            "gui_cpu_with_deferred_ms": round(statistics.median(total_ms), 2),
            "worst_with_deferred_ms": round(max(total_ms), 2), "load_1min": round(os.getloadavg()[0], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="24,48")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [measure(int(n), args.rounds) for n in args.configs.split(",")]
    if args.json:
        print(json.dumps(rows))
    else:
        keys = list(rows[0])
        print(" | ".join(keys))
        for row in rows:
            print(" | ".join(str(row[k]) for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
