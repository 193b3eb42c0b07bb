"""History shows a run as soon as it ends, without Refresh: the real engine through the run host."""

from __future__ import annotations

from tests.waits import WAIT_MS


def test_a_run_that_ends_is_in_the_history_tab_without_refresh(driver, qtbot, tmp_path):
    history = driver.window.history_ws
    assert history.model.rowCount() == 0
    (tmp_path / "a.txt").write_text("one two")
    (tmp_path / "b.txt").write_text("three")
    driver.add_files([tmp_path / "a.txt", tmp_path / "b.txt"])
    driver.choose_plugin("wordcount")
    driver.choose_backend("threads", workers=2)
    driver.run_and_wait()
    tabs = driver.window.tabs
    tabs.setCurrentWidget(history)  # read when it comes into view (out of view, a refresh would cost for nothing)
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=WAIT_MS)
    entry = history.model.entry(0)
    assert entry["kind"] == "run" and entry["plugin"] == "wordcount"
    driver.window.run_ws.start_run()  # from the History tab: Run's shortcut works anywhere in the window
    qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=WAIT_MS)  # in view: read as the run ends


def test_a_run_of_another_process_shows_when_the_tab_comes_into_view_and_the_selection_stays(driver, qtbot,
                                                                                             tmp_path):
    from poolside.cli import main as cli

    (tmp_path / "a.txt").write_text("one two")
    window, history = driver.window, driver.window.history_ws
    assert cli(["run", str(tmp_path / "a.txt"), "-p", "wordcount", "-b", "threads", "-q"]) == 0
    window.tabs.setCurrentWidget(history)
    assert history.model.rowCount() == 1
    first = str(history.model.entry(0)["id"])
    history.select(first)
    window.tabs.setCurrentWidget(window.run_ws)
    assert cli(["run", str(tmp_path / "a.txt"), "-p", "wordcount", "-b", "threads", "-q"]) == 0
    window.tabs.setCurrentWidget(history)
    assert history.model.rowCount() == 2
    assert [str(e["id"]) for e in history.selected()] == [first]  # still the run that was selected
