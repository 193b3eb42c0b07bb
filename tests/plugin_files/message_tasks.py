"""Tasks that used to get weak messages: a huge value, a tight recursion limit,
a chdir, a fork.  No @plugin: every public function is one."""

import os
import sys


def big_bytes(path):
    """50 MB of bytes: the printed line must stay short."""
    return b"x" * (50 * 1024 * 1024)


def tight_recursion(path):
    """Sets a recursion limit that lets it return, and little more."""
    if os.path.basename(path).startswith("a"):
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(depth + 8)
    return 1


def chdir_away(path):
    """Changes the working directory, as a careless task does."""
    os.chdir(os.path.dirname(os.path.abspath(path)) + "/..")
    return os.path.basename(path)


def read_then_die_once(path):
    """Reads the file and changes directory; the worker dies on the first ``b`` item, once.

    A marker file next to the item says it died already.
    """
    with open(path, "rb") as f:
        size = len(f.read())
    os.chdir(os.path.dirname(os.path.abspath(path)) + "/..")
    marker = os.path.abspath(path) + ".died"
    if os.path.basename(path).startswith("b") and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(3)
    return size


def fork_and_return(path):
    """Forks a child that returns into the worker, as a task that forgets os._exit does."""
    if os.path.basename(path).startswith("a"):
        os.fork()
    return os.path.basename(path)


def name(path):
    """The file's name: a task that does nothing of note."""
    return os.path.basename(path)
