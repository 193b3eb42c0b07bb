"""Render the window's tabs offscreen, light and dark, to look at them (1280x800; --size 1024x768).

    python benchmarks/gui_screenshots.py [--out /tmp/shots/window] [--size WxH [--first-launch]] [--readme]
                                         [--real [--dark] | --tour [--dark] | --switch | --queue]

The Compare and History tabs are fed a study record and a history from
``tests/study_fakes.py`` (records of real studies), through the same
StudyClient and history read API the real engine will use, so the pictures
show the views exactly as a study drives them: one during the study, one with
its verdict.  ``--readme`` also writes ``resources/screenshot-compare.png``.
``--real`` instead runs a real grid study (the study engine in its own
process: ``primes`` over the bundled samples, sequential, threads and
processes at 1, 2 and 4 workers) and shoots the Compare tab during it (its
second round drawn) and after it, in the light palette or, with ``--dark``,
the dark one, and the History tab; run it on a quiet machine, since the
numbers are measured.
``--switch`` runs a small real job on the Run tab and switches the palette while the
window is open (light, dark from the middle of the run, light again after it), grabbing
every tab and CPU view each time: what a desktop going dark does to an open window.
``--tour`` shoots the newer views during and after real work, at ``--size``, light or ``--dark``: a
run (live, paused, stopped) with two jobs queued, the File and Run menus, Preview, the Dask box,
Observe a Program (a real program observed, each Cores view during and after), History showing the
observation, and Compare's verdict with Copy as code (a recorded study).
``--queue`` runs a small real job on the Run tab and, while it runs, sets up the next one
(other files, another parameter) and adds it to the queue: the Run tab grabbed with both.
``--first-launch`` makes ``--size`` the screen's size, and the window takes the size a first
launch gives it there (about 90 % of the screen), not the whole of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
#: The window's size (``--size``): the two screens the window must fit, 1280x800 and 1024x768.
SIZE = (1280, 800)
#: ``--first-launch``: SIZE is the screen's, and the window sizes itself as on a first launch.
FIRST_LAUNCH = False


def size_window(w) -> None:
    """The window at SIZE, or placed as a first launch on a screen of SIZE."""
    if FIRST_LAUNCH:
        w.place_first()
    else:
        w.resize(*SIZE)


def offscreen_screen(width: int, height: int) -> None:
    """Make the offscreen platform's one screen ``width``×``height`` (before the QApplication exists)."""
    import json

    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = QPalette.ColorRole
    for role, rgb in ((roles.Window, (45, 45, 48)), (roles.WindowText, (230, 230, 230)), (roles.Base, (30, 30, 32)),
                      (roles.AlternateBase, (45, 45, 48)), (roles.Text, (230, 230, 230)), (roles.Button, (55, 55, 58)),
                      (roles.ButtonText, (230, 230, 230)), (roles.Highlight, (61, 127, 217)),
                      (roles.PlaceholderText, (150, 150, 150))):
        p.setColor(role, QColor(*rgb))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


def settle(app) -> None:
    for _ in range(5):
        app.processEvents()


def shoot(out: Path, scheme: str, readme: bool) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow
    from poolside.study import Config
    from tests.study_fakes import FakeHistory, FakeStudyClient, progress, rounds, run_record, study

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    tmp = tempfile.mkdtemp()
    samples = ROOT / "resources" / "samples"
    paths = sorted(str(p) for p in samples.rglob("*.txt"))[:8] or [str(ROOT / "README.md")]
    record, now = study(), time.time()
    history = FakeHistory()
    history.add_study("s1", record, started=now - 600)
    history.add_run("r1", run_record("wordcount", paths, wall=2.0, started=now - 3600))
    history.add_run("r2", run_record("wordcount", paths, backend="processes", wall=1.04, started=now - 1800,
                                     status="interrupted", pending=paths[3:]))
    client = FakeStudyClient()
    w = MainWindow(QSettings(os.path.join(tmp, "p.ini"), QSettings.Format.IniFormat), study_client=client,
                   history=history)
    size_window(w)
    w.show()
    w.run_ws.files.add_paths(paths)
    w.run_ws.task.select("wordcount")
    w.tabs.setCurrentWidget(w.compare_ws)
    w.compare_ws.start_study()
    client.round(rounds(record)[0])
    client.progress(progress(Config("processes", 4), repeat=2, done=13, total=24))
    settle(app)
    w.grab().save(str(out / f"compare-during-{scheme}.png"))
    client.finish(record)
    settle(app)
    w.grab().save(str(out / f"compare-after-{scheme}.png"))
    if readme and scheme == "light":
        w.grab().save(str(ROOT / "resources" / "screenshot-compare.png"))
    for name, ids in (("history-study", ("s1",)), ("history-runs", ("r1", "r2"))):
        w.tabs.setCurrentWidget(w.history_ws)
        w.history_ws.select(*ids)
        settle(app)
        w.grab().save(str(out / f"{name}-{scheme}.png"))
    w.tabs.setCurrentWidget(w.run_ws)
    settle(app)
    w.grab().save(str(out / f"run-{scheme}.png"))
    w.run_ws.files.shutdown()
    w.close()


def shoot_real(out: Path, readme: bool, scheme: str = "light") -> None:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    # The README's picture is the light one; --dark starts the window in the dark palette.
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    home = tempfile.mkdtemp()
    os.environ["POOLSIDE_HOME"] = home  # a private history: the study is recorded there
    w = MainWindow(QSettings(os.path.join(home, "p.ini"), QSettings.Format.IniFormat))
    size_window(w)
    w.show()
    w.run_ws.files.add_paths(sorted(str(p) for p in (ROOT / "resources" / "samples").glob("*/*")))
    w.run_ws.task.select("primes")
    w.tabs.setCurrentWidget(w.compare_ws)
    w.compare_ws.form.set_grid(["sequential", "threads", "processes"], workers="1, 2, 4")
    suffix = "" if scheme == "light" else "-dark"
    loop = QEventLoop()
    w.compare_ws.studyFinished.connect(lambda _record: loop.quit())
    study, view = w.compare_ws.study, w.compare_ws.view

    def during() -> None:  # once the second round's bars are drawn, while the study runs
        drawn = view.chart.bar_count and not view._redraw_timer.isActive()  # the chart shows the newest round
        if study.record is None and study.round[0] >= 2 and drawn and not watch.property("shot"):
            w.grab().save(str(out / f"real-compare-during{suffix}.png"))
            watch.setProperty("shot", True)

    watch = QTimer()
    watch.timeout.connect(during)
    watch.start(50)
    if w.compare_ws.start_study():
        loop.exec()
    watch.stop()
    settle(app)
    w.grab().save(str(out / f"real-compare{suffix}.png"))
    if readme and scheme == "light":
        w.grab().save(str(ROOT / "resources" / "screenshot-compare.png"))
    if scheme == "light":
        app.setPalette(dark_palette())  # the same study switched to the dark scheme (see the palette work)
        settle(app)
        w.grab().save(str(out / "real-compare-dark-switched.png"))
        app.setPalette(app.style().standardPalette())
    w.tabs.setCurrentWidget(w.history_ws)
    if w.history_ws.model.rowCount():
        w.history_ws.select(w.history_ws.model.entry(0)["id"])
    settle(app)
    w.grab().save(str(out / f"real-history{suffix}.png"))
    w.run_ws.files.shutdown()
    w.close()


def _wait(app, signal, until=lambda: True) -> None:
    """Run the event loop until ``signal`` fires with ``until()`` true (each emission re-checks)."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()

    def check(*_args) -> None:
        if until():
            loop.quit()

    signal.connect(check)
    if not until():
        loop.exec()
    signal.disconnect(check)


def shoot_switch(out: Path) -> None:
    """A small real run (primes over the samples, processes ×2) with the palette switched live:
    light during the run, dark from the middle of it, then light again after it; every tab and
    CPU view grabbed in each.  Compare is fed a recorded study (no study is run)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow
    from tests.study_fakes import FakeStudyClient, study

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    app.setPalette(app.style().standardPalette())
    light = app.palette()
    home = tempfile.mkdtemp()
    os.environ["POOLSIDE_HOME"] = home  # a private history: the run is recorded there
    client = FakeStudyClient()
    w = MainWindow(QSettings(os.path.join(home, "p.ini"), QSettings.Format.IniFormat), study_client=client)
    size_window(w)
    w.show()
    run = w.run_ws
    run.files.add_paths(sorted(str(p) for p in (ROOT / "resources" / "samples").glob("*/*")))
    _wait(app, run.files.scanner.finished)
    run.task.select("primes")
    run.task.set_values({"limit": 600_000})  # ~0.5 s an item: the run lasts a few seconds
    run.backend.set_backend("processes")
    run.backend.workers.setValue(2)
    w.tabs.setCurrentWidget(w.compare_ws)
    w.compare_ws.start_study()
    client.play(study())
    w.tabs.setCurrentWidget(run)

    def grab_all(tag: str, tabs: bool) -> None:
        for i, view in enumerate(("machine", "per-core", "workers")):
            run.cores.tabs.setCurrentIndex(i)
            settle(app)
            w.grab().save(str(out / f"run-{view}-{tag}.png"))
        if tabs:
            for name, ws in (("compare", w.compare_ws), ("history", w.history_ws)):
                w.tabs.setCurrentWidget(ws)
                if ws is w.history_ws and ws.model.rowCount():
                    ws.select(ws.model.entry(0)["id"])
                settle(app)
                w.grab().save(str(out / f"{name}-{tag}.png"))
            w.tabs.setCurrentWidget(run)

    done = []
    w.runFinished.connect(done.append)
    seen = []
    run.bridge.outcomesReady.connect(seen.extend)
    assert run.start_run(), run.task.problems.text()
    _wait(app, run.bridge.outcomesReady, lambda: len(seen) >= 2)
    grab_all("during-light", tabs=False)
    app.setPalette(dark_palette())  # live, in the middle of the run
    settle(app)
    grab_all("during-dark", tabs=False)
    _wait(app, w.runFinished, lambda: bool(done))
    settle(app)
    grab_all("after-dark", tabs=True)
    app.setPalette(light)
    settle(app)
    grab_all("after-light", tabs=True)
    run.files.shutdown()
    w.close()


def _grab(widget, out: Path, name: str) -> None:
    from PySide6.QtWidgets import QApplication

    settle(QApplication.instance())
    widget.grab().save(str(out / f"{name}.png"))


def shoot_tour(out: Path, scheme: str) -> None:
    """The newer views, during and after real work: a run with its live controls, paused, the queue
    with jobs, Preview, the Dask box, Observe a Program (a real program observed, then its views),
    History showing the observation, the File and Run menus, Compare's verdict with Copy as code."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow
    from tests.study_fakes import FakeStudyClient, study

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    home = tempfile.mkdtemp()
    os.environ["POOLSIDE_HOME"] = home  # a private history: the run, queue and observation are kept there
    client = FakeStudyClient()
    w = MainWindow(QSettings(os.path.join(home, "p.ini"), QSettings.Format.IniFormat), study_client=client)
    size_window(w)
    w.show()
    run = w.run_ws
    run.files.add_paths(sorted(str(p) for p in (ROOT / "resources" / "samples").glob("*/*")))
    _wait(app, run.files.scanner.finished)
    run.task.select("primes")
    run.task.set_values({"limit": 600_000})
    run.backend.set_backend("processes")
    run.backend.workers.setValue(2)
    run.backend.memory_cap.setText("1GB")
    seen: list = []
    run.bridge.outcomesReady.connect(seen.extend)
    assert run.start_run(), run.task.problems.text()
    run.queue.add_current()
    run.backend.workers.setValue(1)
    run.queue.add_current()
    _wait(app, run.bridge.outcomesReady, lambda: len(seen) >= 2)
    _grab(w, out, f"tour-run-during-{scheme}")
    held: list = []
    run.bridge.held.connect(lambda: held.append(True))
    run.controls.pause_action.trigger()
    _wait(app, run.bridge.held, lambda: bool(held))
    _grab(w, out, f"tour-run-paused-{scheme}")
    done: list = []
    w.runFinished.connect(done.append)
    run.controls.stop_action.trigger()  # a stop: the queue waits, its jobs stay in view
    _wait(app, w.runFinished, lambda: bool(done))
    _grab(w, out, f"tour-run-after-{scheme}")
    for menu, name in ((w.menuBar().actions()[0].menu(), "file"), (w.menuBar().actions()[1].menu(), "run")):
        menu.popup(w.mapToGlobal(w.rect().topLeft()))
        _grab(menu, out, f"tour-menu-{name}-{scheme}")
        menu.hide()
    previewed: list = []
    run.preview.worker.ready.connect(previewed.append)
    dialog = run.show_preview()
    assert dialog is not None
    _wait(app, run.preview.worker.ready, lambda: bool(previewed))
    _grab(dialog, out, f"tour-preview-{scheme}")
    dialog.close()
    run.backend.set_backend("dask")
    _grab(w, out, f"tour-run-dask-{scheme}")
    run.backend.set_backend("processes")
    observe = w.open_observe()
    _grab(observe, out, f"tour-observe-empty-{scheme}")
    observe.command.setText(f"{sys.executable} {ROOT / 'tests' / 'observe' / 'programs' / 'pool_pure.py'}")
    observe.observe_button.click()
    _wait(app, observe._pump.batchReady,
          lambda: "processes seen" in observe.status.text())
    for i, view in enumerate(("machine", "per-core", "workers")):
        observe.cores.tabs.setCurrentIndex(i)
        _grab(observe, out, f"tour-observe-during-{view}-{scheme}")
    _wait(app, observe.historyChanged, lambda: observe.record is not None)
    for i, view in enumerate(("machine", "per-core", "workers")):
        observe.cores.tabs.setCurrentIndex(i)
        _grab(observe, out, f"tour-observe-after-{view}-{scheme}")
    observe.close()
    w.tabs.setCurrentWidget(w.history_ws)
    w.history_ws.refresh()
    model = w.history_ws.model
    ids = [model.entry(i) for i in range(model.rowCount())]
    kept = next((e for e in ids if e.get("kind") == "observe"), None)
    if kept is not None:
        w.history_ws.select(str(kept["id"]))
    _grab(w, out, f"tour-history-observation-{scheme}")
    if kept is not None:  # double-clicked: the kept observation reopened with its series
        w.history_ws._open_observation(model.index(model.row_of(kept["id"]), 0))
        reopened = w.observations[-1]
        for i, view in enumerate(("machine", "per-core", "workers")):
            reopened.cores.tabs.setCurrentIndex(i)
            _grab(reopened, out, f"tour-observe-reopened-{view}-{scheme}")
        reopened.close()
    w.tabs.setCurrentWidget(w.compare_ws)
    w.compare_ws.start_study()
    client.play(study())
    _grab(w, out, f"tour-compare-after-{scheme}")
    run.files.shutdown()
    w.close()


def shoot_queue(out: Path) -> None:
    """A small real run (primes over the samples, processes ×2); while it runs, the next job (half the
    files, another limit) is set up in the same panels and queued; the Run tab grabbed then."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from poolside.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    app.setPalette(app.style().standardPalette())
    home = tempfile.mkdtemp()
    os.environ["POOLSIDE_HOME"] = home  # a private history and queue
    w = MainWindow(QSettings(os.path.join(home, "p.ini"), QSettings.Format.IniFormat))
    size_window(w)
    w.show()
    run = w.run_ws
    files = sorted(str(p) for p in (ROOT / "resources" / "samples").glob("*/*"))
    run.files.add_paths(files)
    _wait(app, run.files.scanner.finished)
    run.task.select("primes")
    run.task.set_values({"limit": 600_000})  # ~0.5 s an item: the run lasts a few seconds
    run.backend.set_backend("processes")
    run.backend.workers.setValue(2)
    done = []
    w.runFinished.connect(done.append)
    seen = []
    run.bridge.outcomesReady.connect(seen.extend)
    assert run.start_run(), run.task.problems.text()
    _wait(app, run.bridge.outcomesReady, lambda: len(seen) >= 2)
    run.files.clear_action.trigger()
    run.files.add_paths(files[: len(files) // 2])
    _wait(app, run.files.scanner.finished)
    run.task.set_values({"limit": 300_000})
    run.queue.add_action.trigger()
    settle(app)
    w.grab().save(str(out / f"run-queue-during-{SIZE[0]}x{SIZE[1]}.png"))
    run.queue.model.remove(0)  # the picture is taken: the queued job need not run
    _wait(app, w.runFinished, lambda: bool(done))
    run.files.shutdown()
    w.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/shots/window")
    parser.add_argument("--size", default="1280x800", help="the window's size, WIDTHxHEIGHT")
    parser.add_argument("--readme", action="store_true", help="also write resources/screenshot-compare.png")
    parser.add_argument("--real", action="store_true", help="a real study (needs poolside.study)")
    parser.add_argument("--dark", action="store_true", help="with --real: the window in the dark palette")
    parser.add_argument("--switch", action="store_true",
                        help="a small real run, the palette switched light -> dark -> light while the window is open")
    parser.add_argument("--queue", action="store_true",
                        help="a small real run with the next job set up and queued while it runs")
    parser.add_argument("--first-launch", action="store_true",
                        help="--size is the screen's; the window takes a first launch's size on it")
    parser.add_argument("--tour", action="store_true",
                        help="a real run (paused, stopped, the queue), Preview, Dask, Observe a Program, History")
    args = parser.parse_args(argv)
    global SIZE, FIRST_LAUNCH
    width, _, height = args.size.partition("x")
    SIZE = (int(width), int(height))
    FIRST_LAUNCH = args.first_launch
    if FIRST_LAUNCH:
        offscreen_screen(*SIZE)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.queue:
        shoot_queue(out)
        print(f"screenshots in {out}")
        return 0
    if args.switch:
        shoot_switch(out)
        print(f"screenshots in {out}")
        return 0
    if args.tour:
        shoot_tour(out, "dark" if args.dark else "light")
        print(f"screenshots in {out}")
        return 0
    if args.real:
        shoot_real(out, args.readme, "dark" if args.dark else "light")
        print(f"screenshots in {out}")
        return 0
    for scheme in ("light", "dark"):
        shoot(out, scheme, args.readme)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
