"""Opening the window from anywhere: ``poolside PATH...``, a job file, File ▸ Open Recent; its first size
and its title.  The real window, offscreen, on the real engine through the run host."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QRect, QSettings, QSize, QTimer
from PySide6.QtWidgets import QApplication

from poolside.gui import launcher
from poolside.gui.main_window import COMFORTABLE, MainWindow, first_geometry
from poolside.gui.recent import LIMIT, RecentItems
from poolside.spec import JobSpec
from tests.gui_helpers import open_window
from tests.waits import WAIT_MS


def _texts(folder, n=3):
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"t{i}.txt").write_text("one two three\n" * (i + 1))
    return folder


# -- which arguments open the window -----------------------------------------------------------

def test_paths_open_the_window_and_commands_options_and_typos_go_to_the_cli(tmp_path):
    job = tmp_path / "job.toml"
    job.write_text('plugin = "wordcount"\n')
    assert launcher.opens_window([])
    assert launcher.opens_window([str(tmp_path)])
    assert launcher.opens_window([str(job)])
    assert launcher.opens_window([str(tmp_path / "gone"), str(job)])  # the window names the missing one
    assert not launcher.opens_window(["run", str(tmp_path)])
    assert not launcher.opens_window(["--version"])
    assert not launcher.opens_window(["rnu"])  # a mistyped command: the CLI's usage error


def test_a_mistyped_command_is_still_a_usage_error(capsys):
    assert launcher.main(["rnu", "--plugin", "sha256"]) == 2
    assert "invalid choice: 'rnu'" in capsys.readouterr().err


def test_paths_that_do_not_exist_are_named_not_taken_for_a_command(capsys, tmp_path):
    assert launcher.main([str(tmp_path / "photos"), str(tmp_path / "job.toml")]) == 2
    err = capsys.readouterr().err
    assert f"no such file or folder: '{tmp_path / 'photos'}', '{tmp_path / 'job.toml'}'" in err
    assert "the commands are: run, compare" in err


def test_poolside_paths_opens_the_window_with_those_files_and_folders(qtbot, monkeypatch, tmp_path):
    from poolside.gui import app

    folder = _texts(tmp_path / "texts")
    single = tmp_path / "single.txt"
    single.write_text("alone")
    monkeypatch.setenv("POOLSIDE_SETTINGS", str(tmp_path / "poolside.ini"))
    seen: list[list[str]] = []

    def look_and_close() -> None:
        w = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        qtbot.waitUntil(lambda: len(w.run_ws.files.paths()) == 4, timeout=WAIT_MS)  # the folder is scanned
        seen.append(sorted(w.run_ws.files.paths()))
        w.quit_action.trigger()

    QTimer.singleShot(0, look_and_close)
    assert app.main([], paths=[str(folder), str(single)]) == 0
    assert seen == [sorted([*(str(p) for p in folder.iterdir()), str(single)])]
    settings = QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat)
    assert RecentItems(settings).items() == [str(folder)]  # the folder is recent; a single file is not


def test_a_job_file_opens_that_job_and_a_missing_path_is_named(qtbot, tmp_path):
    folder = _texts(tmp_path / "texts")
    job = tmp_path / "count.toml"
    JobSpec("wordcount", paths=(str(folder),), recursive=True, backend="threads", workers=2).save(job)
    w = open_window(qtbot, tmp_path)
    said: list[str] = []
    w.statusBar().messageChanged.connect(said.append)
    with qtbot.waitSignal(w.run_ws.files.scanner.finished, timeout=WAIT_MS):
        w.open_paths([str(job), str(tmp_path / "gone.png")])
    assert w.run_ws.plugin().name == "wordcount"
    assert len(w.run_ws.files.paths()) == 3
    assert w.run_ws.backend.spec_fields()["backend"] == "threads"
    assert any("Not found" in m and "gone.png" in m for m in said), said
    assert w.recent.items() == [str(job), str(folder)]  # the job, and the folder it names


# -- File ▸ Open Recent ----------------------------------------------------------------------------

def test_open_recent_lists_jobs_and_folders_newest_first_and_reopens_them(qtbot, tmp_path):
    folder = _texts(tmp_path / "texts")
    job = tmp_path / "count.toml"
    w = open_window(qtbot, tmp_path)
    with qtbot.waitSignal(w.run_ws.files.scanner.finished, timeout=WAIT_MS):
        w.open_paths([str(folder)])
    w.run_ws.task.select("wordcount")
    assert w.save_job(str(job))
    menu = w.recent_menu
    menu.rebuild()
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels[:2] == [f"Job: {job}", f"Folder: {folder}"] and labels[-1] == "Clear Recent"
    w.run_ws.files.clear_action.trigger()
    next(a for a in menu.actions() if a.text() == f"Job: {job}").trigger()  # the job lists its files
    assert len(w.run_ws.files.paths()) == 3
    # Kept with the settings: another window on the same file lists them too.
    assert RecentItems(QSettings(str(tmp_path / "poolside.ini"), QSettings.Format.IniFormat)).items()[:2] == [
        str(job), str(folder)]
    next(a for a in menu.actions() if a.text() == "Clear Recent").trigger()
    assert w.recent.items() == []
    assert [a.text() for a in menu.actions() if a.text()][0] == "No recent folders or jobs"


def test_recent_is_bounded_and_a_gone_entry_is_dropped_when_chosen(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    for i in range(LIMIT + 3):
        w.recent.add(str(tmp_path / f"f{i}"))
    assert len(w.recent.items()) == LIMIT and w.recent.items()[0] == str(tmp_path / f"f{LIMIT + 2}")
    w.open_recent(str(tmp_path / f"f{LIMIT + 2}"))
    assert str(tmp_path / f"f{LIMIT + 2}") not in w.recent.items()
    assert "no longer in Open Recent" in w.statusBar().currentMessage()


# -- the first size, and the size the user chose -------------------------------------------------

@pytest.mark.parametrize("screen, expected", [
    (QRect(0, 0, 1280, 770), QSize(1216, 731)),   # 1280×800 less a 30 px panel: ~90 % of the area
    (QRect(0, 0, 1024, 768), QSize(972, 729)),
    (QRect(0, 0, 3840, 2160), COMFORTABLE),        # a 4K screen: no more than the layout wants
])
def test_a_first_window_fills_about_90_percent_of_the_screen_and_no_more_than_the_layout_wants(screen, expected):
    rect = first_geometry(screen, COMFORTABLE)
    assert rect.size() == expected
    assert screen.contains(rect) and abs(rect.center().x() - screen.center().x()) <= 1
    area = rect.width() * rect.height() / (screen.width() * screen.height())
    assert area == pytest.approx(0.9, abs=0.01) or rect.size() == COMFORTABLE


def test_the_first_window_fits_its_screen_and_a_chosen_size_is_kept(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    available = w.screen().availableGeometry()
    assert available.contains(w.geometry())
    assert w.width() >= min(COMFORTABLE.width(), int(available.width() * 0.9))
    w.resize(780, 600)
    w.close()
    again = open_window(qtbot, tmp_path)
    assert again.size() == QSize(780, 600)


# -- the title ---------------------------------------------------------------------------------

def test_the_title_names_the_job_and_its_progress_while_it_runs(qtbot, tmp_path):
    folder = _texts(tmp_path / "texts", 4)
    w = open_window(qtbot, tmp_path)
    assert w.windowTitle() == "Poolside"
    w.run_ws.task.select("wordcount")
    with qtbot.waitSignal(w.run_ws.files.scanner.finished, timeout=WAIT_MS):
        w.open_paths([str(folder)])
    assert w.windowTitle() == "wordcount · 4 files — Poolside"
    titles: list[str] = []
    w.windowTitleChanged.connect(titles.append)
    w.run_ws.backend.set_backend("threads")
    with qtbot.waitSignal(w.runFinished, timeout=WAIT_MS):
        assert w.run_ws.start_run()
    assert any(t.endswith("% · wordcount · 4 files — Poolside") for t in titles), titles
    assert "100 % · wordcount · 4 files — Poolside" in titles or w.windowTitle() == "wordcount · 4 files — Poolside"
    assert w.windowTitle() == "wordcount · 4 files — Poolside"


@pytest.mark.skipif(sys.platform == "win32", reason="the shell's argv and paths differ")
def test_the_window_module_passes_its_arguments_on(monkeypatch):
    import runpy

    from poolside.gui import launcher as module

    opened: list[list[str]] = []
    monkeypatch.setattr(module, "open_window", lambda paths=(): opened.append(list(paths)) or 0)
    monkeypatch.setattr(sys, "argv", ["poolside.gui", "/a/job.toml", "/b"])
    with pytest.raises(SystemExit):
        runpy.run_module("poolside.gui", run_name="__main__")
    assert opened == [["/a/job.toml", "/b"]]


def test_a_folder_added_in_the_run_tab_is_recent(driver, tmp_path):
    folder = _texts(tmp_path / "texts")
    driver.add_files([folder])  # as Add Folder and a drop give it
    assert driver.window.recent.items() == [str(folder)]
    driver.window.recent_menu.rebuild()
    assert driver.window.recent_menu.actions()[0].text() == f"Folder: {folder}"
