"""poolside.watch.FolderWatch: the files there, then each new one once written, nothing twice, nothing
from an excluded folder or not matching the patterns, nothing the history has ok; stop() ends it."""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

import pytest

from poolside.watch import FolderWatch, path_key
from tests.waits import WAIT_S


class Reader:
    """Reads a watch on a thread, as the engine's reader does."""

    def __init__(self, watch: FolderWatch) -> None:
        self.watch = watch
        self.got: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self) -> None:
        for path in self.watch:
            self.got.put(path)

    def next_name(self) -> str:
        return self.got.get(timeout=WAIT_S).name

    def stop(self) -> None:
        self.watch.stop()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


def test_new_files_once_written_skipping_excluded_unmatched_and_done(tmp_path: Path):
    (tmp_path / "out").mkdir()
    old = tmp_path / "old.txt"
    old.write_text("old")
    past = time.time() - 60
    os.utime(old, (past, past))
    done = tmp_path / "done.txt"
    done.write_text("done")
    watch = FolderWatch([tmp_path], patterns=("*.txt",), exclude=[tmp_path / "out"], skip={path_key(done)},
                        settle_s=0.2)
    reader = Reader(watch)
    try:
        assert reader.next_name() == "old.txt"
        (tmp_path / "out" / "made-by-the-task.txt").write_text("x")  # excluded
        (tmp_path / "notes.md").write_text("x")  # does not match
        (tmp_path / "new.txt").write_text("new")
        assert reader.next_name() == "new.txt"
        (tmp_path / "new.txt").write_text("rewritten")  # taken once
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "deep.txt").write_text("deep")
        assert reader.next_name() == "deep.txt"
    finally:
        reader.stop()
    assert reader.got.empty()
    assert watch.yielded == 3 and watch.already_done == 1 and watch.done
    assert "1 file already done" in watch.skipped_note()


def test_a_watch_needs_folders(tmp_path: Path):
    f = tmp_path / "a.txt"
    f.write_text("a")
    with pytest.raises(ValueError, match="not a folder"):
        FolderWatch([f])
