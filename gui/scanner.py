"""Folder scans off the GUI thread: Add Folder and folder drops.

A plain ``threading.Thread`` walks the folders (recursively, symlinked folders
not followed, special files skipped, names matched against glob patterns) and
pushes ``(path, size, shown)`` entries into a :class:`~gui.bridge.BatchPump`;
the GUI thread receives them in batches.  A scan can be cancelled and is
always joined: ``shutdown`` before the window goes away.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import threading
from collections.abc import Iterable, Iterator, Sequence

from PySide6.QtCore import QObject, Signal

from gui.bridge import BatchPump


def parse_patterns(text: str) -> list[str]:
    """``"*.png; *.jpg, *.gif"`` -> ``["*.png", "*.jpg", "*.gif"]`` (empty: everything)."""
    return [p for p in re.split(r"[;,\s]+", text.strip()) if p and p != "*"]


def _matcher(patterns: Sequence[str]):
    if not patterns:
        return lambda name: True
    rx = re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))
    return lambda name: rx.match(name.lower()) is not None


def walk(root: str, patterns: Sequence[str] = (), cancelled: threading.Event | None = None) -> Iterator[tuple[str, int, str]]:
    """Regular files under ``root`` whose names match, as ``(path, size, shown)``.

    ``shown`` is the path relative to ``root``'s parent, so a file reads as
    ``photos/2024/a.png``.  Unreadable folders are skipped.
    """
    matches = _matcher(patterns)
    root = os.path.abspath(root)
    base = os.path.dirname(root.rstrip(os.sep)) or root
    stack = [root]
    while stack:
        if cancelled is not None and cancelled.is_set():
            return
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(e.path)
                    continue
                if not matches(e.name):
                    continue
                st = e.stat(follow_symlinks=True)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield e.path, st.st_size, os.path.relpath(e.path, base)
        stack.extend(reversed(subdirs))


class FolderScanner(QObject):
    """Scans folders on a background thread; ``found(list)`` batches, ``finished(int)``."""

    found = Signal(list)
    finished = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pump = BatchPump(self, interval_ms=60, max_batch=20_000)
        self._pump.batchReady.connect(self.found)
        self._pump.drained.connect(self._on_drained)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def scan(self, roots: Iterable[str], patterns: Sequence[str] = ()) -> None:
        """Start scanning ``roots``; a scan still running is finished first."""
        self.shutdown(flush=True)
        roots = [os.fspath(r) for r in roots]
        self._cancel = threading.Event()
        self._pump.start()
        self._thread = threading.Thread(
            target=self._run, args=(roots, list(patterns), self._cancel), name="poolside-scan", daemon=True
        )
        self._thread.start()

    def _run(self, roots: list[str], patterns: list[str], cancel: threading.Event) -> None:
        found = 0
        batch: list = []
        try:
            for root in roots:
                for entry in walk(root, patterns, cancel):
                    batch.append(entry)
                    if len(batch) >= 2_000:
                        self._pump.push(batch)
                        found += len(batch)
                        batch = []
            self._pump.push(batch)
            found += len(batch)
        finally:
            self._pump.close(found)

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def shutdown(self, flush: bool = False) -> None:
        """Stop any scan and join its thread; ``flush`` delivers what it found."""
        if self._thread is None:
            return
        if not flush:
            self._cancel.set()
        self._thread.join()
        if flush:
            self._pump.flush()
        else:
            self._pump.stop()
        self._thread = None

    def _on_drained(self, found: int) -> None:
        if self._thread is not None:
            self._thread.join()  # it has closed the pump: it is returning
        self._thread = None
        self.finished.emit(int(found or 0))
