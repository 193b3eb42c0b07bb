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

#: Generous ceilings for waitSignal: a safety net against a hang, not a speed limit.
WAIT_MS = 60_000


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
            assert w.bridge.wait(timeout=60)
        w.run_ws.files.shutdown()


@pytest.fixture
def window(make_window):
    return make_window()


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


def add_folder(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.run_ws.files.scanner.finished, timeout=WAIT_MS):
        window.run_ws.files.add_paths([path])


def run_and_wait(qtbot, window) -> object:
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        assert window.run_ws.start_run(), window.run_ws.task.problems.text()
        assert not window.run_ws.run_action.isEnabled()  # no second run while one is going
        assert window.run_ws.cancel_action.isEnabled()
    assert window.run_ws.run_action.isEnabled() and not window.run_ws.cancel_action.isEnabled()
    return blocker.args[0]


def test_drop_a_folder_pick_a_plugin_set_a_parameter_and_run_on_threads(qtbot, window, folder):
    window.run_ws.files.add_paths([folder / "note0.txt"])
    assert window.run_ws.task.select("wordcount")
    assert window.run_ws.files.patterns()[:2] == ["*.txt", "*.md"]  # preset from the plugin
    with qtbot.waitSignal(window.run_ws.files.scanner.finished, timeout=WAIT_MS):
        event = drop(window, [folder])
    assert event.isAccepted()
    assert len(window.run_ws.files.model) == 12  # note0.txt once; picture.png filtered out
    assert "12 files" in window.run_ws.files.footer.text()
    window.run_ws.task.form.editor("encoding").setCurrentText("latin-1")
    window.run_ws.backend.set_backend("threads")
    window.run_ws.backend.workers.setValue(3)

    summary = run_and_wait(qtbot, window)

    assert summary.counts["ok"] == 12 and summary.backend == "threads" and summary.workers == 3
    model = window.run_ws.results.model
    assert len(model) == 12
    assert model.column_names() == ["Status", "Item", "lines", "words", "chars", "bytes", "Time", "Worker"]
    rows = {os.path.basename(o.item): o.value for o in model.outcomes()}
    assert rows["note2.txt"]["lines"] == 3 and rows["deep0.md"]["words"] == 3
    assert "Done" in window.run_ws.progress.headline.text()
    assert window.run_ws.progress.bar.value() == 12
    assert "12 ok" in window.statusBar().currentMessage() or "12 items" in window.statusBar().currentMessage()
    assert window.run_ws.timeline.shown == 12
    assert window.run_ws.run_action.isEnabled() and not window.run_ws.cancel_action.isEnabled()


def test_run_sha256_on_processes_with_a_parameter(qtbot, window, folder):
    add_folder(qtbot, window, folder)
    assert window.run_ws.task.select("sha256")
    window.run_ws.task.form.editor("chunk_kb").setValue(64)
    window.run_ws.backend.set_backend("processes")
    window.run_ws.backend.workers.setValue(2)

    summary = run_and_wait(qtbot, window)

    assert summary.backend == "processes" and summary.counts["ok"] == 13
    for o in window.run_ws.results.model.outcomes():
        with open(o.item, "rb") as f:
            assert o.value["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert {o.worker for o in window.run_ws.results.model.outcomes()} <= {0, 1}


def slow_run_on_processes(qtbot, window, folder, *, extra: int, ms: float) -> None:
    """Set up a run long enough to interrupt: the folder plus ``extra`` names, ``ms`` each."""
    add_folder(qtbot, window, folder)
    window.run_ws.files.model.add((str(folder / f"virtual{i}.txt"), 0) for i in range(extra))
    assert window.run_ws.task.select("latency")
    window.run_ws.task.form.editor("ms").setValue(ms)
    window.run_ws.backend.set_backend("processes")
    window.run_ws.backend.workers.setValue(2)


def test_cancel_mid_run_ends_pending_items_as_cancelled(qtbot, window, folder):
    slow_run_on_processes(qtbot, window, folder, extra=300, ms=50.0)
    window.run_ws.backend.chunk.setValue(1)

    with qtbot.waitSignal(window.bridge.outcomesReady, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    assert window.running and window.run_ws.cancel_action.isEnabled()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # the Cancel shortcut
    summary = blocker.args[0]

    assert summary.total == 313 and summary.counts["cancelled"] > 0
    assert "Cancelled" in window.run_ws.progress.headline.text()
    window.run_ws.results.status_filter.setCurrentIndex(window.run_ws.results.status_filter.findText("cancelled"))
    assert window.run_ws.results.proxy.rowCount() == summary.counts["cancelled"]


def test_a_failing_item_stands_out_and_shows_its_error(qtbot, window, folder):
    add_folder(qtbot, window, folder)
    (folder / "note3.txt").unlink()  # gone by the time the task reads it
    assert window.run_ws.task.select("sha256")
    window.run_ws.backend.set_backend("threads")

    summary = run_and_wait(qtbot, window)

    assert summary.counts["failed"] == 1
    failed = window.run_ws.results.current_outcome()  # the first problem is selected
    assert failed is not None and failed.item.endswith("note3.txt")
    details = window.run_ws.results.details.toPlainText()
    assert "note3.txt" in details and failed.error.type in details and failed.error.message in details
    proxy = window.run_ws.results.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.outcome(r) is failed)
    assert proxy.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    window.run_ws.results.status_filter.setCurrentIndex(1)  # Problems
    assert window.run_ws.results.proxy.rowCount() == 1


def test_export_round_trips_through_csv_and_json(qtbot, window, folder, tmp_path):
    add_folder(qtbot, window, folder)
    assert window.run_ws.task.select("sha256")
    window.run_ws.backend.set_backend("threads")
    run_and_wait(qtbot, window)
    outcomes = sorted(window.run_ws.results.model.outcomes(), key=lambda o: o.index)

    assert window.run_ws.export_results(str(tmp_path / "out.csv")) == 13
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    assert [(r["item"], r["status"], r["sha256"], int(r["bytes"])) for r in rows] == [
        (o.item, "ok", o.value["sha256"], o.value["bytes"]) for o in outcomes
    ]

    assert window.run_ws.export_results(str(tmp_path / "out.json")) == 13
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    back = sorted(doc["results"], key=lambda r: r["index"])
    assert [(r["item"], r["value"]) for r in back] == [(o.item, o.value) for o in outcomes]
    assert doc["summary"]["counts"]["ok"] == 13

    window.run_ws.results.text_filter.setText("sub")  # exports what the table shows
    window.run_ws.results.proxy.set_text("sub")
    assert window.run_ws.export_results(str(tmp_path / "sub.json")) == 3


def test_settings_persist_across_a_new_window(qtbot, make_window, folder):
    first = make_window()
    first.run_ws.files.last_folder = str(folder)
    assert first.run_ws.task.select("thumbnail")
    first.run_ws.task.form.editor("size").setValue(128)
    first.run_ws.task.form.editor("format").setCurrentText("png")
    assert first.run_ws.task.select("wordcount")  # another plugin's values are kept too
    first.run_ws.backend.set_backend("threads")
    first.run_ws.backend.workers.setValue(3)
    first.run_ws.backend.timeout.setValue(5.0)
    first.run_ws.backend.ordered.setChecked(True)
    first.resize(760, 560)  # within the offscreen screen (800x600): restoreGeometry clamps to it
    first.close()

    second = make_window()
    assert second.run_ws.task.current_plugin().name == "wordcount"
    assert second.run_ws.task.select("thumbnail")
    assert second.run_ws.task.form.raw_values()["size"] == 128
    assert second.run_ws.task.form.raw_values()["format"] == "png"
    assert second.run_ws.files.last_folder == str(folder)
    assert second.run_ws.backend.spec_fields() == {
        "backend": "threads",
        "workers": 3,
        "chunk_size": "auto",
        "timeout": 5.0,
        "ordered": True,
        "method": None,
    }
    assert (second.width(), second.height()) == (760, 560)


def test_run_is_refused_with_clear_reasons(qtbot, window, folder):
    assert not window.run_ws.start_run()
    assert "Add some files first." in window.run_ws.task.problems.text()
    window.run_ws.files.add_paths([folder / "note0.txt"])
    assert window.run_ws.task.select("thumbnail")
    window.run_ws.task.form.editor("out").setText("   ")
    assert not window.run_ws.start_run()
    assert "out" in window.run_ws.task.problems.text() and not window.running


def test_closing_during_a_run_asks_then_cancels_and_leaves_no_worker(qtbot, window, folder):
    slow_run_on_processes(qtbot, window, folder, extra=200, ms=100.0)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with qtbot.waitSignal(window.bridge.outcomesReady, timeout=WAIT_MS):
        assert window.run_ws.start_run()
    workers = {p.pid for p in psutil.Process().children(recursive=True)} - before

    window.confirm_close = lambda: False
    window.close()
    assert window.isVisible() and window.running  # said no: nothing happened

    window.confirm_close = lambda: True
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as blocker:
        window.close()
    assert not window.isVisible() and not window.running
    assert blocker.args[0].counts["cancelled"] > 0
    alive = [p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    engine_helpers = {p.pid for p in psutil.Process().children(recursive=False)}  # the forkserver stays
    assert not set(alive) - engine_helpers


def test_load_plugin_file(qtbot, window, tmp_path):
    path = tmp_path / "my_tasks.py"
    path.write_text(
        "def shout(path: str, times: int = 2) -> dict:\n"
        "    '''Shout the file name.\n\n    Args:\n        times: how many times.\n    '''\n"
        "    return {'shout': str(path).upper() * times}\n",
        encoding="utf-8",
    )
    loaded = window.run_ws.task.load_plugin_file(str(path))
    assert [p.name for p in loaded] == ["shout"]
    assert window.run_ws.task.current_plugin().name == "shout"
    assert window.run_ws.task.form.raw_values() == {"times": 2}
    assert "file" in window.run_ws.task.combo.currentText()


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
