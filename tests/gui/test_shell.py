"""The window is a shell of workspaces; every control is named for screen readers; jobs save and open."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from poolside.gui import main_window
from poolside.gui.a11y import is_control, unnamed_controls
from poolside.gui.main_window import MainWindow
from poolside.gui.workspaces.run import RunWorkspace
from poolside.spec import JobSpec
from tests.gui_helpers import WindowDriver, open_window


@pytest.fixture
def window(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    yield w
    w.run_ws.files.shutdown()


def describe(widgets) -> list[str]:
    return [f"{type(w).__name__}({w.objectName() or w.accessibleName()!r})" for w in widgets]


def test_every_control_has_an_accessible_name_equal_to_its_label(qtbot, window):
    ws, driver = window.run_ws, WindowDriver(qtbot, window)
    for name in ("sha256", "thumbnail", "wordcount"):  # parameter forms are rebuilt per plugin
        driver.choose_plugin(name)
        assert describe(unnamed_controls(window)) == []
    controls = [w for w in window.findChildren(QWidget) if is_control(w)]
    names = {w.accessibleName() for w in controls}
    assert {"Backend", "Workers", "Chunk size", "Method", "Timeout", "Run", "Cancel", "Task"} <= names
    assert ws.backend.backend.accessibleName() == "Backend"
    driver.choose_plugin("thumbnail")
    assert ws.task.form.editor("size").accessibleName() == "Size"


def test_the_newer_panels_and_every_dialog_name_their_controls(qtbot, window, tmp_path):
    """The queue with jobs, the Dask box, Preview, Observe a Program and Diagnostic details: every
    control named as its label, and the cluster's labels in line with the Backend panel's."""
    from poolside.gui.observe_dialog import ObserveDialog
    from poolside.gui.workspaces.run.preview_view import PreviewDialog

    ws, driver = window.run_ws, WindowDriver(qtbot, window)
    paths = [tmp_path / f"f{i}.txt" for i in range(2)]
    for p in paths:
        p.write_text(p.name)
    driver.add_files(paths)
    driver.choose_plugin("wordcount")
    assert ws.queue.add_current() and ws.queue.add_current()
    driver.choose_backend("dask")
    qtbot.waitUntil(ws.queue.panel.isVisible)
    assert describe(unnamed_controls(window)) == []
    backend = ws.backend.layout().labelForField(ws.backend.backend)
    cluster = ws.backend.cluster.layout().labelForField(ws.backend.cluster.cluster)
    assert cluster.minimumWidth() >= backend.sizeHint().width()
    dialogs = [PreviewDialog(lambda: False, lambda: False, window), ObserveDialog(window), window.show_details()]
    try:
        for dialog in dialogs:
            assert describe(unnamed_controls(dialog)) == [], dialog.windowTitle()
    finally:
        for dialog in dialogs:
            dialog.close()


def test_the_window_is_a_shell_and_the_run_workspace_owns_the_panels(window):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())][0] == "Run"
    assert isinstance(window.tabs.widget(0), RunWorkspace)
    for panel in ("files", "task", "backend", "progress", "results", "timeline", "cores"):
        assert not hasattr(window, panel), f"the window holds the {panel} panel"
        assert hasattr(window.run_ws, panel)


def test_method_is_offered_only_for_the_classic_pools(window):
    backend = window.run_ws.backend
    backend.set_backend("processes")
    assert not backend.method.isEnabled() and backend.spec_fields()["method"] is None
    backend.set_backend("mp-pool")
    assert backend.method.isEnabled()
    backend.apply(method="imap")
    assert backend.spec_fields()["method"] == "imap"
    backend.set_backend("thread-executor")
    assert backend.spec_fields()["method"] in ("submit", "map")


def test_workers_are_resolved_by_the_job_spec(window):
    backend = window.run_ws.backend
    for name in ("threads", "processes", "sequential"):
        backend.set_backend(name)
        backend.apply(workers=0)
        assert backend.resolved_workers() == JobSpec("x", backend=name).resolved_workers(backend._bound)
    backend.set_backend("sequential")
    backend.apply(workers=5)
    assert backend.resolved_workers() == 1  # the spec's rule, not the panel's


def test_save_job_then_open_it_in_a_new_window(qtbot, window, tmp_path):
    driver = WindowDriver(qtbot, window)
    note = tmp_path / "note.txt"
    note.write_text("one two\n", encoding="utf-8")
    driver.add_files([note])
    driver.choose_plugin("wordcount", encoding="latin-1")
    driver.choose_backend("mp-pool", 2, chunk_size=8, method="imap")
    job = tmp_path / "job.toml"
    assert window.save_job(str(job))
    spec = JobSpec.load(job)
    settings = (spec.plugin, spec.backend, spec.workers, spec.chunk_size, spec.method)
    assert settings == ("wordcount", "mp-pool", 2, 8, "imap")
    assert spec.params["encoding"] == "latin-1" and spec.paths == (str(note),)

    other = MainWindow(QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(other)
    assert other.open_job(str(job))
    back, problems = other.run_ws.job_spec()
    assert problems == [] and back == spec
    other.run_ws.files.shutdown()


def test_save_job_refuses_an_incomplete_job(window, tmp_path):
    assert not window.save_job(str(tmp_path / "job.toml"))
    assert "Add some files first." in window.statusBar().currentMessage()
    assert not (tmp_path / "job.toml").exists()


def test_the_compare_tab_follows_the_run_tabs_job_without_flagging_it(qtbot, window, tmp_path):
    ws, compare, driver = window.run_ws, window.compare_ws, WindowDriver(qtbot, window)
    assert "Add some files first." in compare.job.text()
    driver.choose_plugin("thumbnail", out="  ")  # required, and empty
    # One file each task accepts: the list shows (and runs) only those the chosen task takes.
    note, picture = tmp_path / "a.txt", tmp_path / "a.png"
    note.write_text("x", encoding="utf-8")
    picture.write_bytes(b"x")
    driver.add_files([note, picture])
    assert "out" in compare.job.text() and "empty" in compare.job.text()
    assert ws.task.problems.isHidden()  # the Run tab says nothing until the person presses Run
    assert ws.task.form.editor("out").property("invalid") in (None, False)
    driver.choose_plugin("wordcount")
    assert "wordcount" in compare.job.text() and "1 file." in compare.job.text()


def test_about_names_the_version():
    from importlib.metadata import version

    assert main_window._version() == version("poolside")
