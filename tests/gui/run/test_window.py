"""The real window, driven as a person would: files, a task, a backend, Run, results.

Real plugins, the real engine on threads and on processes, offscreen.  Waits
are on signals (never sleeps); every test leaves no run and no window behind.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os

import psutil
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from poolside.gui.main_window import MainWindow
from tests.gui_helpers import WindowDriver
from tests.waits import WAIT_MS, WAIT_S


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "poolside.ini")


@pytest.fixture
def make_window(qtbot, settings_file):
    made: list[MainWindow] = []

    def make() -> MainWindow:
        w = MainWindow(QSettings(settings_file, QSettings.Format.IniFormat))
        w.confirm_close = lambda: True  # no modal question in tests
        qtbot.addWidget(w)
        w.show()  # 1280x800 unless the settings remember another size
        made.append(w)
        return w

    yield make
    for w in made:
        if w.running:
            w.bridge.cancel()
            assert w.bridge.wait(timeout=WAIT_S)
        w.run_ws.files.shutdown()


@pytest.fixture
def folder(tmp_path):
    """``docs/`` with 12 small text files, 3 of them in ``docs/sub/``, and one image name."""
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    for i in range(9):
        (root / f"note{i}.txt").write_text(f"hello world {i}\n" * (i + 1), encoding="utf-8")
    for i in range(3):
        (root / "sub" / f"deep{i}.md").write_text("one two three\n", encoding="utf-8")
    (root / "picture.png").write_bytes(b"\x89PNG not really")
    return root


def drop(widget, paths) -> QDropEvent:
    """Drag ``paths`` over ``widget`` and drop them, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(20, 20),  # QDragMoveEvent and its enter event take an integer point
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)
    return event


def test_drop_a_folder_pick_a_plugin_set_a_parameter_and_run_on_threads(qtbot, driver, folder):
    driver.add_files([folder / "note0.txt"])
    driver.choose_plugin("wordcount")
    assert driver.run_ws.files.patterns()[:2] == ["*.txt", "*.md"]  # preset from the plugin
    with qtbot.waitSignal(driver.run_ws.files.scanner.finished, timeout=WAIT_MS):
        event = drop(driver.window, [folder])
    assert event.isAccepted()
    assert len(driver.run_ws.files.model) == 12  # note0.txt once; picture.png filtered out
    assert "12 files" in driver.run_ws.files.footer.text()
    driver.set_params(encoding="latin-1")
    driver.choose_backend("threads", 3)

    summary = driver.run_and_wait()

    assert summary.counts["ok"] == 12 and summary.backend == "threads" and summary.workers == 3
    model = driver.run_ws.results.model
    assert len(model) == 12
    assert model.column_names() == ["Status", "Item", "lines", "words", "chars", "bytes", "Time", "Worker"]
    rows = {os.path.basename(o.item): o.value for o in model.outcomes()}
    assert rows["note2.txt"]["lines"] == 3 and rows["deep0.md"]["words"] == 3
    assert "Done" in driver.headline()
    assert driver.run_ws.progress.bar.value() == 12
    status = driver.window.statusBar().currentMessage()
    assert "12 ok" in status or "12 items" in status
    assert driver.run_ws.timeline.shown == 12
    assert driver.run_ws.run_action.isEnabled() and not driver.run_ws.cancel_action.isEnabled()


def test_run_sha256_on_processes_with_a_parameter(qtbot, driver, folder):
    driver.add_files([folder])
    driver.choose_plugin("sha256", chunk_kb=64)
    driver.choose_backend("processes", 2)

    summary = driver.run_and_wait()

    assert summary.backend == "processes" and summary.counts["ok"] == 13
    for o in driver.outcomes():
        with open(o.item, "rb") as f:
            assert o.value["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert {o.worker for o in driver.outcomes()} <= {0, 1}


def slow_run_on_processes(driver, folder, *, extra: int, ms: float) -> None:
    """Set up a run long enough to interrupt: the folder plus ``extra`` names, ``ms`` each."""
    driver.add_files([folder])
    driver.add_items(str(folder / f"virtual{i}.txt") for i in range(extra))
    driver.choose_plugin("latency", ms=ms)
    driver.choose_backend("processes", 2)


def test_cancel_mid_run_ends_pending_items_as_cancelled(qtbot, driver, folder):
    slow_run_on_processes(driver, folder, extra=300, ms=50.0)
    driver.choose_backend("processes", 2, chunk_size=1)

    driver.start_and_wait_for_outcomes()
    assert driver.window.running and driver.run_ws.cancel_action.isEnabled()
    summary = driver.press_escape_and_wait()  # Esc: the Cancel shortcut

    assert summary.total == 313 and summary.counts["cancelled"] > 0
    assert "Cancelled" in driver.headline()
    driver.run_ws.results.status_filter.setCurrentIndex(driver.run_ws.results.status_filter.findText("cancelled"))
    assert driver.run_ws.results.proxy.rowCount() == summary.counts["cancelled"]


def test_a_failing_item_stands_out_and_shows_its_error(qtbot, driver, folder):
    driver.add_files([folder])
    (folder / "note3.txt").unlink()  # gone by the time the task reads it
    driver.choose_plugin("sha256")
    driver.choose_backend("threads")

    summary = driver.run_and_wait()

    assert summary.counts["failed"] == 1
    failed = driver.run_ws.results.current_outcome()  # the first problem is selected
    assert failed is not None and failed.item.endswith("note3.txt")
    details = driver.run_ws.results.details.toPlainText()
    assert "note3.txt" in details and failed.error.type in details and failed.error.message in details
    proxy = driver.run_ws.results.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.outcome(r) is failed)
    assert proxy.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    driver.run_ws.results.status_filter.setCurrentIndex(1)  # Problems
    assert driver.run_ws.results.proxy.rowCount() == 1


def test_export_round_trips_through_csv_and_json(qtbot, driver, folder, tmp_path):
    driver.add_files([folder])
    driver.choose_plugin("sha256")
    driver.choose_backend("threads")
    driver.run_and_wait()
    outcomes = sorted(driver.outcomes(), key=lambda o: o.index)

    assert driver.run_ws.exports.export_results(str(tmp_path / "out.csv")) == 13
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    assert [(r["item"], r["status"], r["sha256"], int(r["bytes"])) for r in rows] == [
        (o.item, "ok", o.value["sha256"], o.value["bytes"]) for o in outcomes
    ]

    assert driver.run_ws.exports.export_results(str(tmp_path / "out.json")) == 13
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    back = sorted(doc["results"], key=lambda r: r["index"])
    assert [(r["item"], r["value"]) for r in back] == [(o.item, o.value) for o in outcomes]
    assert doc["summary"]["counts"]["ok"] == 13

    driver.run_ws.results.text_filter.setText("sub")  # exports what the table shows
    driver.run_ws.results.proxy.set_text("sub")
    assert driver.run_ws.exports.export_results(str(tmp_path / "sub.json")) == 3


def test_settings_persist_across_a_new_window(qtbot, make_window, folder):
    first = WindowDriver(qtbot, make_window())
    first.run_ws.files.last_folder = str(folder)
    first.choose_plugin("thumbnail", size=128, format="png")
    first.choose_plugin("wordcount")  # another plugin's values are kept too
    first.choose_backend("threads", 3, timeout=5.0, ordered=True)
    first.window.resize(780, 590)  # within the offscreen screen (800x800): restoreGeometry clamps to it
    first.close()

    second = WindowDriver(qtbot, make_window())
    assert second.run_ws.task.current_plugin().name == "wordcount"
    second.choose_plugin("thumbnail")
    assert second.params()["size"] == 128 and second.params()["format"] == "png"
    assert second.run_ws.files.last_folder == str(folder)
    assert second.run_ws.backend.spec_fields() == {
        "backend": "threads",
        "workers": 3,
        "chunk_size": "auto",
        "timeout": 5.0,
        "ordered": True,
        "method": None,
    }
    assert (second.window.width(), second.window.height()) == (780, 590)


def test_run_is_refused_with_clear_reasons(qtbot, driver, folder):
    assert not driver.start_run()
    assert "Add some files first." in driver.problems()
    driver.add_files([folder / "note0.txt"])
    driver.choose_plugin("thumbnail", out="   ")
    assert not driver.start_run()
    assert "out" in driver.problems() and not driver.window.running


def test_closing_during_a_run_asks_then_cancels_and_leaves_no_worker(qtbot, driver, folder):
    slow_run_on_processes(driver, folder, extra=200, ms=100.0)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    driver.start_and_wait_for_outcomes()
    workers = {p.pid for p in psutil.Process().children(recursive=True)} - before

    driver.window.confirm_close = lambda: False
    driver.window.close()
    assert driver.window.isVisible() and driver.window.running  # said no: nothing happened

    driver.window.confirm_close = lambda: True
    with qtbot.waitSignal(driver.window.runFinished, timeout=WAIT_MS) as blocker:
        driver.window.close()
    assert not driver.window.isVisible() and not driver.window.running
    assert blocker.args[0].counts["cancelled"] > 0
    alive = [p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    engine_helpers = {p.pid for p in psutil.Process().children(recursive=False)}  # the forkserver stays
    assert not set(alive) - engine_helpers


def test_load_plugin_file(qtbot, driver, tmp_path):
    path = tmp_path / "my_tasks.py"
    path.write_text(
        "def shout(path: str, times: int = 2) -> dict:\n"
        "    '''Shout the file name.\n\n    Args:\n        times: how many times.\n    '''\n"
        "    return {'shout': str(path).upper() * times}\n",
        encoding="utf-8",
    )
    loaded = driver.load_plugin_file(path)
    assert [p.name for p in loaded] == ["shout"]
    assert driver.run_ws.task.current_plugin().name == "shout"
    assert driver.params() == {"times": 2}
    assert "file" in driver.run_ws.task.combo.currentText()


def test_main_opens_the_window_and_returns_the_exit_code(qtbot, monkeypatch, settings_file):
    from PySide6.QtCore import QTimer

    from poolside.gui.app import main

    monkeypatch.setenv("POOLSIDE_SETTINGS", settings_file)
    seen: list[str] = []

    def close_it() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible():
                seen.append(w.windowTitle())
                w.close()  # the last window closed ends the event loop
        QApplication.instance().quit()

    QTimer.singleShot(0, close_it)
    assert main([]) == 0
    assert seen == ["Poolside"]
    assert os.path.exists(settings_file)  # closing saved the settings where told
