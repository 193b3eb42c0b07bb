"""From the paths a person gives to the items a job runs: checked eagerly, walked lazily.

    expand(["photos", "a.png"], recursive=True, patterns=("*.png",))
      |  now: every given path is looked at once (lstat): a missing one, a
      |       broken link, or a folder without recursive, is an
      |       InputUsageError naming them all in one message
      v
    Expansion  --iterate (the engine reads it lazily)-->  Path, Path, ...
      |  a given file:  always an item, whatever it is (a FIFO, an empty or
      |                 unreadable file: the task says what is wrong)
      |  a given folder: walked in name order, one directory listing at a time;
      |                 entries that do not match the patterns, and symlinked
      |                 folders (never followed: no cycles), are *counted* in
      |                 ``skipped`` with their reason
      |  a folder that cannot be listed: becomes an item itself, so its outcome
      |                 says "cannot be listed: Permission denied"
      v
    counts: ``yielded``, ``skipped`` (reason -> n), ``done`` - for progress
    and for the note a CLI prints at the end.

Nothing is opened here, only ``lstat``-ed and listed, so nothing can block: a
FIFO reaches the task as an item, and the task's guard
(``poolside.plugins._files.check_input``) fails it without opening it.  Nothing is
dropped without a count either.

Names that are not valid UTF-8 stay exact (Python's surrogate escapes) so the
file can be opened; :func:`display` turns any item into printable text.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

SKIP_NO_MATCH = "did not match the patterns"
SKIP_SYMLINKED_FOLDER = "symlinked folder (not followed)"
SKIP_EXCLUDED = "an output of this run"


class InputUsageError(ValueError):
    """The given paths cannot be used as asked (missing, or a folder without recursive)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def display(item: Any) -> str:
    """Printable text for an item: a path with undecodable bytes shows them as ``\\xNN``.

    Such names arrive with surrogate escapes, which no UTF-8 terminal, JSON or
    CSV writer accepts; this never raises.
    """
    text = os.fspath(item) if isinstance(item, os.PathLike) else item
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    if not isinstance(text, str):
        text = str(text)
    return printable(text)


def printable(text: str) -> str:
    """``text`` with lone surrogates (from undecodable bytes) turned into ``\\xNN``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that did not come from a byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def matcher(patterns: Sequence[str]):
    """A test for file names: any pattern matches (case-insensitively); no patterns: all."""
    if not patterns:
        return lambda name: True
    rx = re.compile("|".join(fnmatch.translate(p.lower()) for p in patterns))
    return lambda name: rx.match(name.lower()) is not None


class Expansion:
    """The items of some paths, as an iterator (read once, lazily); counts fill in as it goes."""

    def __init__(self, paths: Sequence[Path], recursive: bool, patterns: Sequence[str],
                 exclude: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.recursive = recursive
        self.patterns = tuple(patterns)
        self._exclude = {os.path.normcase(os.path.abspath(p)) for p in exclude}
        self.yielded = 0
        self.skipped: Counter[str] = Counter()
        #: Set once the last item has been handed out (the total is then known).
        self.done = False
        #: How many skipped entries to keep by name in ``skipped_paths`` (a preview lists them;
        #: a run only counts them, so a walk of millions holds no list).
        self.keep_skipped = 0
        self.skipped_paths: list[tuple[Path, str]] = []
        self._iterator: Iterator[Path] | None = None

    def __iter__(self) -> Iterator[Path]:
        return self

    def __next__(self) -> Path:
        if self._iterator is None:
            self._iterator = self._items()
        return next(self._iterator)

    def _items(self) -> Iterator[Path]:
        matches = matcher(self.patterns)
        for path in self.paths:
            if _is_folder(path):
                for item in self._walk(path, matches):
                    self.yielded += 1
                    yield item
            else:
                # Named explicitly: always an item; patterns are for folders.
                self.yielded += 1
                yield path
        self.done = True

    def _walk(self, root: Path, matches) -> Iterator[Path]:
        # Depth first, names sorted: the order is the same on every run, and
        # only one folder's listing is held at a time per level.
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                yield folder  # its outcome will say why it cannot be listed
                continue
            subfolders = []
            for entry in entries:
                path = folder / entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_link = entry.is_symlink()
                except OSError:
                    is_dir = is_link = False
                if is_dir:
                    if os.path.normcase(os.path.abspath(path)) in self._exclude:
                        self._skip(path, SKIP_EXCLUDED)
                    else:
                        subfolders.append(path)
                elif is_link and _is_folder(path):
                    self._skip(path, SKIP_SYMLINKED_FOLDER)
                elif self._exclude and os.path.normcase(os.path.abspath(path)) in self._exclude:
                    self._skip(path, SKIP_EXCLUDED)
                elif matches(entry.name):
                    # Files, broken links, FIFOs, sockets: all items; the task's
                    # guard fails the ones that are not regular files, clearly.
                    yield path
                else:
                    self._skip(path, SKIP_NO_MATCH)
            stack.extend(reversed(subfolders))

    def _skip(self, path: Path, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.skipped_paths) < self.keep_skipped:
            self.skipped_paths.append((path, reason))

    def skipped_note(self) -> str:
        """``"skipped 3 entries: 2 did not match the patterns (*.png), 1 symlinked ..."``."""
        if not self.skipped:
            return ""
        parts = []
        for reason, n in self.skipped.most_common():
            if reason == SKIP_NO_MATCH and self.patterns:
                reason = f"{reason} ({', '.join(self.patterns)})"
            parts.append(f"{n} {reason}")
        total = sum(self.skipped.values())
        return f"skipped {total} entr{'y' if total == 1 else 'ies'}: " + ", ".join(parts)


def expand(paths: Iterable[str | os.PathLike[str]], *, recursive: bool = False,
           patterns: Sequence[str] = (), exclude: Sequence[str | os.PathLike[str]] = ()
           ) -> Expansion:
    """Check ``paths`` now and return their items, to be read lazily.

    Raises :class:`InputUsageError` naming every path that does not exist,
    every broken link and every folder given without ``recursive``, all at
    once: a person fixes the command line in one go, not one path per try.  ``patterns`` filter the files
    found in folders (case-insensitive globs on the name); files named
    explicitly are always items.  Folders and files in ``exclude`` (a
    plugin's output folder, the record file) are left out of walks, counted.
    """
    given = [Path(os.fspath(p)) for p in paths]
    problems = []
    for path in given:
        try:
            os.lstat(path)
        except FileNotFoundError:
            problems.append(f"{display(path)!r}: no such file or folder")
            continue
        except ValueError:  # an embedded NUL: no file can have that name
            problems.append(f"{display(path)!r}: not a valid path")
            continue
        except OSError:
            # Cannot even look at it (a folder on the way is not searchable,
            # the name is too long): an item whose outcome will say why.
            continue
        if (broken := _broken_link(path)) is not None:
            problems.append(f"{display(path)!r} is a broken link (it points to {display(broken)!r}, "
                            "which does not exist)")
            continue
        if _is_folder(path) and not recursive:
            problems.append(f"{display(path)!r} is a folder; add --recursive "
                            "to include the files in it")
    if problems:
        raise InputUsageError(problems)
    return Expansion(given, recursive, patterns, [Path(p) for p in exclude])


def walk(root: str | os.PathLike[str], patterns: Sequence[str] = ()) -> Expansion:
    """The items in one folder, recursively: what a window's "Add Folder" needs."""
    return expand([root], recursive=True, patterns=patterns)


def _broken_link(path: Path) -> str | None:
    """The target of ``path`` if it is a symbolic link to nothing, else None."""
    if not path.is_symlink() or os.path.exists(path):
        return None
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
