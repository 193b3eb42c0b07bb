"""Run ▸ Watch Folder on the real engine through the run host: the files in the folder run, then each
file written there later runs once complete; turned off, the watch's thread ends.  Files the history
has ok for this task are not run again when the folder is watched anew."""

from __future__ import annotations

from poolside.history import store
from tests.waits import WAIT_MS


def _runs() -> list[dict]:
    conn = store.connect()
    try:
        return sorted(store.list_runs(conn), key=lambda r: r["id"])
    finally:
        conn.close()


def test_watch_folder_runs_the_files_there_then_each_new_one(driver, tmp_path, qtbot):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(name)
    driver.choose_plugin("sha256")
    driver.choose_backend("threads", 2)
    ws = driver.run_ws
    watch = ws.watch
    menu = next(a.menu() for a in driver.window.menuBar().actions() if a.text() == "&Run")
    toggle = next(a for a in menu.actions() if a.text() == "Watch Folder…")
    assert toggle.isCheckable() and toggle.shortcut().toString() == "Ctrl+Shift+W"
    watch.choose_folder = lambda: str(folder)
    finished = []
    driver.window.runFinished.connect(finished.append)

    toggle.trigger()
    assert toggle.isChecked() and watch.watching
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=WAIT_MS)
    assert finished[0].counts["ok"] == 2
    # The panels set up another job meanwhile: the watch goes on with the one it was started with.
    driver.choose_plugin("wordcount")
    driver.choose_backend("threads", 1)
    (folder / "c.txt").write_text("written later")
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=WAIT_MS)
    assert finished[1].counts["ok"] == 1
    assert [(r["plugin"].rpartition(":")[2], r["workers"]) for r in _runs()] == [("sha256", 2)] * 2
    driver.choose_plugin("sha256")
    driver.choose_backend("threads", 2)
    assert driver.outcomes()[0].item.endswith("c.txt")
    thread = watch._thread
    toggle.trigger()  # off
    assert not toggle.isChecked() and not watch.watching and not thread.is_alive()
    assert [r["total"] for r in _runs()] == [2, 1]

    # Watched again: what the history has ok is not run again; a new file is.
    toggle.trigger()
    (folder / "d.txt").write_text("d")
    qtbot.waitUntil(lambda: len(finished) == 3, timeout=WAIT_MS)
    assert finished[2].total == 1 and driver.outcomes()[0].item.endswith("d.txt")
    toggle.trigger()
    assert [r["total"] for r in _runs()] == [2, 1, 1]
