"""Reading inputs safely and writing outputs atomically, for every plugin.

Reading::

    check_input(path)   stat only: a regular file, or a clear InputError saying
                        what it is instead (FIFO, directory, broken link, ...)
    open_input(path)    open without ever blocking (O_NONBLOCK), re-check the
                        opened file with fstat, then hand back a normal binary file

Opening a FIFO for reading blocks until some writer opens it, which may be
never; a device may be endless.  ``check_input`` runs before every plugin call
(see ``_task.BoundTask``); ``open_input`` closes the gap between that check and
the open (the path could have been swapped in between).

Writing::

    out = AtomicOutput(folder, name, on_collision, protect=input_path)
    if out.skipped: ...                 # "skip" and the name exists: no work
    with out as f: f.write(...)         # .name.XXXX.part in the same folder
    out.path, out.action                # renamed into place on success only

A reader never sees a half-written file, a failure leaves nothing behind, and
an input is never overwritten, whatever the policy.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, Literal

Collision = Literal["rename", "skip", "overwrite"]
COLLISIONS = ("rename", "skip", "overwrite")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class InputError(Exception):
    """An input that cannot be used; the message says why, plainly.

    Not an ``OSError``: its text is the whole story ("a FIFO (named pipe), not
    a regular file"), without an ``[Errno N]`` prefix.
    """


class OutputError(Exception):
    """An output that cannot be written where and how it was asked."""


def _read_umask() -> int:
    # os.umask() can only be read by setting it, which races with other
    # threads creating files; /proc says it without changing it.
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _kind(mode: int) -> str:
    for test, word in _KINDS:
        if test(mode):
            return word
    return "not a regular file"


def check_input(path: str | os.PathLike[str]) -> os.stat_result:
    """Return the ``stat`` of ``path`` if it is a readable regular file; else raise InputError.

    Never opens the path.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            raise InputError(f"broken symbolic link (it points to {target!r}, "
                             "which does not exist)") from None
        raise InputError("no such file (was it moved or deleted?)") from None
    except PermissionError:
        raise InputError("permission denied (a folder on its path "
                         "cannot be searched)") from None
    except OSError as e:  # ELOOP, ENAMETOOLONG, EIO, ...
        raise InputError(f"cannot read it: {e.strerror or e}") from None
    if stat.S_ISREG(st.st_mode):
        if not os.access(path, os.R_OK):
            raise InputError("permission denied (the file is not readable)")
        return st
    if stat.S_ISDIR(st.st_mode):
        # A directory arrives as an item when it could not be listed while
        # walking a folder: say why, rather than just "a directory".
        try:
            with os.scandir(path):
                pass
        except OSError as e:
            raise InputError(f"a directory that cannot be listed: "
                             f"{e.strerror or e}") from None
        raise InputError("a directory, not a file")
    raise InputError(f"{_kind(st.st_mode)}, not a regular file (left unopened)")


def open_input(path: str | os.PathLike[str]) -> io.BufferedReader:
    """Open a regular file for reading; never blocks on a FIFO or device."""
    check_input(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise InputError("permission denied (the file is not readable)") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{_kind(st.st_mode)}, not a regular file")
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        raw = io.FileIO(fd, "rb")
        raw.name = os.fspath(path)  # not the descriptor's number: libraries' messages name the file
        return io.BufferedReader(raw)
    except BaseException:
        os.close(fd)
        raise


def split_name(name: str) -> tuple[str, str]:
    """``"a.tar.gz"`` -> ``("a", ".tar.gz")``; a leading dot belongs to the stem."""
    head = name.lstrip(".")
    lead = name[: len(name) - len(head)]
    stem, dot, rest = head.partition(".")
    return lead + stem, (dot + rest if dot else "")


def safe_filename(name: str, fallback: str = "file") -> str:
    """A name that is one plain path component (no separators, not ``..``)."""
    name = name.replace("/", "_").replace("\\", "_").replace("\0", "_").strip()
    # Control characters go; undecodable bytes (surrogate escapes) stay, so
    # an output keeps its input's name byte for byte.
    name = "".join(c if c.isprintable() or "\udc80" <= c <= "\udcff" else "_" for c in name)
    if name in ("", ".", ".."):
        name = fallback
    # Most filesystems allow 255 bytes per name; keep the suffix if we cut.
    if len(os.fsencode(name)) > 200:
        stem, suffix = split_name(name)
        cut = os.fsencode(stem)[: 200 - len(os.fsencode(suffix)[:40])]
        name = os.fsdecode(cut) + suffix[:40]
    return name


class AtomicOutput:
    """One output file, written to a temporary file and renamed into place.

    ``on_collision`` decides what happens when ``folder/name`` exists:
    ``"rename"`` writes ``name-1.ext`` (``-2``, ...) instead, ``"skip"`` does no
    work and keeps the old file, ``"overwrite"`` replaces it.  ``protect`` is the
    input: the output is never allowed to be that same file.
    """

    def __init__(self, folder: str | os.PathLike[str], name: str, on_collision: str,
                 protect: str | os.PathLike[str] | None = None) -> None:
        if on_collision not in COLLISIONS:
            raise ValueError(f"on_collision must be one of {', '.join(COLLISIONS)}")
        self.folder = Path(folder)
        self.name = safe_filename(name)
        self.policy = on_collision
        self.protect = protect
        self.path: Path = self.folder / self.name
        #: What happened: "written", "overwritten", "renamed" or "skipped".
        self.action = ""
        self._tmp: str | None = None
        self._file: BinaryIO | None = None

    @property
    def skipped(self) -> bool:
        """True (and ``action`` is ``"skipped"``) if the policy says not to bother."""
        if self.policy == "skip" and os.path.lexists(self.path):
            self.action = "skipped"
            return True
        return False

    def __enter__(self) -> BinaryIO:
        import tempfile  # not at module top: workers that only read never need it

        try:
            os.makedirs(self.folder, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"output folder {str(self.folder)!r} "
                              "is a file, not a folder") from None
        stem, _ = split_name(self.name)
        fd, self._tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{stem[:60]}.", suffix=".part")
        self._file = os.fdopen(fd, "wb")
        return self._file

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._file is not None and self._tmp is not None
        try:
            self._file.close()
            if exc_type is None:
                self._commit(self._tmp)
        finally:
            if os.path.lexists(self._tmp):
                os.unlink(self._tmp)

    def _commit(self, tmp: str) -> None:
        # mkstemp creates 0600; an output should get the usual mode (umask).
        os.chmod(tmp, 0o666 & ~_UMASK)
        if self.policy == "overwrite":
            if self.protect is not None and _same_file(self.path, self.protect):
                raise OutputError(f"refusing to overwrite the input itself "
                                  f"({str(self.path)!r}); choose another output folder")
            existed = os.path.lexists(self.path)
            os.replace(tmp, self.path)
            self.action = "overwritten" if existed else "written"
            return
        # "rename" and "skip" must never replace a file, not even one another
        # worker created a moment ago: link() fails if the name exists, atomically.
        stem, suffix = split_name(self.name)
        n = 0
        while True:
            candidate = self.folder / (self.name if n == 0 else f"{stem}-{n}{suffix}")
            if _place_new(tmp, candidate):
                self.path = candidate
                self.action = "written" if n == 0 else "renamed"
                return
            if self.policy == "skip":
                self.path, self.action = candidate, "skipped"
                return
            n += 1
            if n > 100_000:
                raise OutputError(f"no free name like {self.name!r} "
                                  f"in {str(self.folder)!r}")


def _place_new(tmp: str, target: Path) -> bool:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist; True if moved."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK,
                           errno.EXDEV, errno.ENOSYS, errno.EACCES):
            raise
        # A filesystem without hard links: reserve the name with O_EXCL, then
        # replace the (empty) reservation.  Still never clobbers anything.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            return False
        os.replace(tmp, target)
        return True
    os.unlink(tmp)
    return True


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
