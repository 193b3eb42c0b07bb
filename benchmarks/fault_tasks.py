"""Tasks that misbehave on the item named ``f07``: the cases of ``benchmarks.fault_matrix``.

Every other item returns its size.  No ``@plugin``: every public function is one.
"""

import os
import sys
import threading
import time


def _culprit(path):
    return os.path.basename(path) == "f07"


def _size(path):
    return os.path.getsize(path)


class BaseExit(BaseException):
    """Neither an Exception nor SystemExit: what a careless library raises."""


class Unrebuildable:
    """Pickles, but rebuilding it in the parent raises."""

    def __reduce__(self):
        return (int, ("not a number",))


def raise_base_exception(path):
    if _culprit(path):
        raise BaseExit("not an Exception")
    return _size(path)


def system_exit(path):
    if _culprit(path):
        sys.exit(3)
    return _size(path)


def segfault(path):
    if _culprit(path):
        import ctypes

        ctypes.string_at(0)
    return _size(path)


def hang(path):
    if _culprit(path):
        threading.Event().wait()
    return _size(path)


def unrebuildable(path):
    return Unrebuildable() if _culprit(path) else _size(path)


async def async_fail(path):
    if _culprit(path):
        raise ValueError("async task refuses f07")
    return _size(path)


def endless_thread(path):
    if _culprit(path):
        threading.Thread(target=threading.Event().wait, daemon=False).start()
    return _size(path)


def fork_and_return(path):
    if _culprit(path):
        os.fork()
    return _size(path)


def fork_and_linger(path):
    if _culprit(path) and os.fork() == 0:
        time.sleep(600)
        os._exit(0)
    return _size(path)


def close_std_fds(path):
    if _culprit(path):
        for fd in (1, 2):
            try:
                os.close(fd)
            except OSError:
                pass
    return _size(path)


def tight_recursion(path):
    if _culprit(path):
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(depth + 8)
    return _size(path)


def chdir_away(path):
    os.chdir("/")
    return _size(path)


def fail(path):
    if _culprit(path):
        raise ValueError("refuses f07")
    return _size(path)
