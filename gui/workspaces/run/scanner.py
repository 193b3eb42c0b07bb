"""Folder scans off the GUI thread: Add Folder and folder drops.

A plain ``threading.Thread`` walks the folders with :func:`poolside.inputs.walk`
(recursively, symlinked folders not followed, names matched against glob
patterns, exactly as the command line does) and pushes ``(path, size, shown)``
entries into a :class:`~poolside.gui.bridge.BatchPump`;
the GUI thread receives them in batches.  A scan can be cancelled and is
always joined: ``shutdown`` before the window goes away.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence

from PySide6.QtCore import QObject, Signal

from ...pump import BatchPump


def parse_patterns(text: str) -> list[str]:
    """``"*.png; *.jpg, *.gif"`` -> ``["*.png", "*.jpg", "*.gif"]`` (empty: everything)."""
    return [p for p in re.split(r"[;,\s]+", text.strip()) if p and p != "*"]


class Walk:
    """The files under one folder as ``(path, size, shown)``, with what was skipped.

    The walk itself is :func:`poolside.inputs.walk`, the same the command line
    uses: names matched case-insensitively, symlinked folders not followed,
    special files (FIFOs, sockets) kept as items so the task says clearly why
    it cannot read them.  ``shown`` is the path relative to the folder's
    parent, so a file reads as ``photos/2024/a.png``.
    """

    def __init__(self, root: str, patterns: Sequence[str] = (), cancelled: threading.Event | None = None) -> None:
        from poolside.inputs import walk as core_walk

        self.root = os.path.abspath(root)
        self._base = os.path.dirname(self.root.rstrip(os.sep)) or self.root
        self._expansion = core_walk(self.root, tuple(patterns))
        self._cancelled = cancelled

    def skipped_note(self) -> str:
        return self._expansion.skipped_note()

    def __iter__(self) -> Iterator[tuple[str, int, str]]:
        from poolside.inputs import display

        for item in self._expansion:
            if self._cancelled is not None and self._cancelled.is_set():
                return
            path = os.fspath(item)
            try:
                size = os.stat(path).st_size
            except OSError:  # a broken link, an unreadable entry: still an item
                size = 0
            yield path, size, display(os.path.relpath(path, self._base))


def walk(
    root: str, patterns: Sequence[str] = (), cancelled: threading.Event | None = None
) -> Iterator[tuple[str, int, str]]:
    """``iter(Walk(root, patterns, cancelled))``."""
    return iter(Walk(root, patterns, cancelled))


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
        #: What the last scan left out and why ("skipped 3 entries: ...").
        self.skipped_note = ""

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
        notes = []
        try:
            for root in roots:
                scan = Walk(root, patterns, cancel)
                for entry in scan:
                    batch.append(entry)
                    if len(batch) >= 2_000:
                        self._pump.push(batch)
                        found += len(batch)
                        batch = []
                if scan.skipped_note():
                    notes.append(scan.skipped_note())
            self._pump.push(batch)
            found += len(batch)
        finally:
            self.skipped_note = "; ".join(notes)
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
