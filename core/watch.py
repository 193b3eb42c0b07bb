"""Watching folders: the files in them now, then every file that appears later, once completely written.

    FolderWatch(roots, patterns, exclude, skip)
      items() ──► watchfiles.watch(roots) started first (a file made during the walk is not missed)
                  the walk of the roots (as ``poolside run -r`` walks them)  ──► yielded
                  then, each tick (TICK_MS): added / modified paths ──► pending {path: size, mtime}
                                                  unchanged for SETTLE_S ──► yielded
                  until stop(): the watch ends within one tick

``poolside run DIR --watch`` hands ``items()`` to the engine as its input (the
engine reads a blocking input on a thread of its own), so one run records every
file it processes; the window's Watch toggle reads it on a thread and runs the
new files as they come.  ``skip`` holds the files the history already has ok
(:func:`poolside.history.resume.done_items`): after a restart they are not run again.

Why watchfiles: it wraps each system's own notifications (inotify, FSEvents,
ReadDirectoryChangesW) through the Rust ``notify`` crate, is well kept (the
reloader of uvicorn and others), ships wheels for every platform, and takes a
stop event, so a watch ends promptly when asked.  Polling by hand would list
every folder every tick, a cost that grows with the folder, and see a new file
only at the next listing.

"Completely written": a notification says that a file changed, not that its
writer is done (close-write exists on Linux only, and a copy may close and
reopen the file), so a file counts as written once its size and modification
time have stayed the same for SETTLE_S.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .inputs import expand, matcher
from .log import get_logger

log = get_logger(__name__)

# How often pending files are looked at again, and how long a stop may take.
TICK_MS = 250
# A file whose size and modification time stayed the same this long is written:
# long enough for a copy that pauses between blocks, short enough to feel prompt.
SETTLE_S = 1.0


def path_key(path: str | os.PathLike[str]) -> bytes:
    """A file's identity, as the history keys items: its absolute, normalised path, as bytes."""
    return os.path.normpath(os.fsencode(os.path.abspath(path)))


class FolderWatch:
    """The items of watched folders, as one iterator that ends at :meth:`stop`.  Safe to stop from any thread."""

    def __init__(self, roots: Sequence[str | os.PathLike[str]], *, patterns: Sequence[str] = (),
                 exclude: Iterable[str | os.PathLike[str]] = (), skip: Iterable[bytes] = (),
                 settle_s: float = SETTLE_S) -> None:
        self.roots = [os.path.abspath(r) for r in roots]
        missing = [r for r in self.roots if not os.path.isdir(r)]
        if missing:
            raise ValueError(f"cannot watch {', '.join(map(repr, missing))}: not a folder")
        self.patterns = tuple(patterns)
        self._matches = matcher(self.patterns)
        self._exclude = [os.path.normcase(os.path.abspath(p)) for p in exclude]
        self._exclude_walk = list(exclude)
        self._skip = set(skip)
        self._seen: set[bytes] = set()
        self._pending: dict[str, tuple[int, int, float]] = {}
        self._stop = threading.Event()
        self.settle_s = settle_s
        #: Files handed out so far (the CLI's progress reads it), and the history's ok ones passed over.
        self.yielded = 0
        self.already_done = 0
        #: False while watching (the total is not known); True once the watch has ended.
        self.done = False
        self._walk: Any = None

    def __iter__(self) -> Iterator[Path]:
        return self.items()

    def stop(self) -> None:
        """End the watch: files still being written are left; ``items()`` ends within a tick."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def items(self) -> Iterator[Path]:
        """The files there now, then each new one once written; ends at :meth:`stop`."""
        import watchfiles

        changes = watchfiles.watch(*self.roots, stop_event=self._stop, rust_timeout=TICK_MS, debounce=TICK_MS,
                                   yield_on_timeout=True, raise_interrupt=False, recursive=True)
        try:
            first = next(changes, set())  # watching from here on: nothing made during the walk is missed
            self._walk = expand(self.roots, recursive=True, patterns=self.patterns, exclude=self._exclude_walk)
            for path in self._walk:
                if self._stop.is_set():
                    return
                if not self._new(path):
                    continue
                if self._being_written(path):
                    self._pending[os.fspath(path)] = (-1, -1, time.monotonic())  # settles from the next look
                    continue
                yield self._hand_out(path)
            for batch in _chain([first], changes):
                if self._stop.is_set():
                    return
                self._note(batch)
                yield from self._settled()
        finally:
            changes.close()
            self.done = True

    def skipped_note(self) -> str:
        """What the walk passed over, and the files the history already has ok (for the CLI's notes)."""
        parts = [self._walk.skipped_note()] if self._walk is not None else []
        if self.already_done:
            parts.append(f"{self.already_done} file{'s' if self.already_done != 1 else ''} already done "
                         "(ok in the history) were not run again")
        return "; ".join(p for p in parts if p)

    # -- the reading thread ----------------------------------------------------
    def _new(self, path: str | os.PathLike[str]) -> bool:
        key = path_key(path)
        if key in self._seen:
            return False
        if key in self._skip:
            self._seen.add(key)
            self.already_done += 1
            return False
        return True

    def _hand_out(self, path: str | os.PathLike[str]) -> Path:
        self._seen.add(path_key(path))
        self._pending.pop(os.fspath(path), None)
        self.yielded += 1
        return Path(path)

    def _wanted(self, path: str) -> bool:
        """A file (not a folder) that the walk would have taken: it matches, it is not in an excluded place."""
        folded = os.path.normcase(path)
        if any(folded == e or folded.startswith(e + os.sep) for e in self._exclude):
            return False
        return self._matches(os.path.basename(path)) and os.path.isfile(path) and self._new(path)

    def _note(self, batch: Iterable[tuple[Any, str]]) -> None:
        import watchfiles

        now, tick = time.time(), time.monotonic()
        for change, path in batch:
            if change == watchfiles.Change.deleted:
                self._pending.pop(path, None)
                continue
            if os.path.isdir(path):
                # Files made in a new folder before its watch began send no event of their own.
                self._note((change, os.path.join(top, name)) for top, _, names in os.walk(path) for name in names)
                continue
            if not self._wanted(path):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue  # gone already
            signature = (st.st_size, st.st_mtime_ns)
            before = self._pending.get(path)
            if before is not None and before[:2] == signature:
                continue  # unchanged: its settling time goes on
            # A file moved in whole keeps its old time: it has settled already.
            settled = before is None and now - st.st_mtime >= self.settle_s
            self._pending[path] = (*signature, tick - self.settle_s if settled else tick)

    def _being_written(self, path: str | os.PathLike[str]) -> bool:
        """Changed within SETTLE_S: a writer may still be at it."""
        try:
            return time.time() - os.stat(path).st_mtime < self.settle_s
        except OSError:
            return False  # the item's own outcome will say why it cannot be read

    def _settled(self) -> Iterator[Path]:
        now = time.monotonic()
        for path, (size, mtime, since) in list(self._pending.items()):
            try:
                st = os.stat(path)
            except OSError:
                self._pending.pop(path, None)
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                self._pending[path] = (st.st_size, st.st_mtime_ns, now)
            elif now - since >= self.settle_s and self._new(path):
                yield self._hand_out(path)
            elif now - since >= self.settle_s:
                self._pending.pop(path, None)


def _chain(*parts: Iterable[Any]) -> Iterator[Any]:
    for part in parts:
        yield from part
