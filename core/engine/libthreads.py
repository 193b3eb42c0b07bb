"""Capping a task's libraries' own thread pools (BLAS, OpenMP) while each item runs.

    run(task, ..., library_threads=1) ─► LibraryThreads(task, 1) ─pickle─► worker process:
        with threadpoolctl's limit(1): task(item)    (restored after the item)

A task that already runs on several cores by itself (numpy's matrix products,
scikit-learn) oversubscribes the machine when several workers run it: two
processes of two BLAS threads each on two cores spend their time switching and
spinning.  Capping each worker's libraries to one thread makes processes ×cores
run as fast as the library alone, and stay fast when the machine is busy.

The cap is set per item, not once per worker: process workers are parked and
reused by the next run, which must find the libraries as they were.
threadpoolctl (the joblib/scikit-learn project's) finds and caps every known
library's pool; its controller is kept while no module is imported, since
discovering the libraries costs ~0.6 ms an item and a cached limit ~13 us.

A library's pool is one per process, so the cap suits backends that run one
item at a time per process (and the sequential baseline); threads of one
process would cap and restore each other's pools mid-item.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class LibraryThreads:
    """``task`` with its libraries' thread pools capped to ``limit`` threads while an item runs."""

    def __init__(self, task: Callable[[Any], Any], limit: int) -> None:
        self.task, self.limit = task, limit

    def __call__(self, item: Any) -> Any:
        with _controller().limit(limits=self.limit):
            return self.task(item)

    def __repr__(self) -> str:
        return f"<{self.task!r} with {self.limit} library thread{'s' if self.limit != 1 else ''}>"


#: (len(sys.modules) when it was made, the controller)
_controller_for: list[tuple[int, Any]] = []


def _controller() -> Any:
    """threadpoolctl's controller, made again when modules were imported since (a task that imports
    numpy in its first item loads BLAS then: that item runs uncapped, the next ones are capped)."""
    modules = len(sys.modules)
    if not _controller_for or _controller_for[0][0] != modules:
        from threadpoolctl import ThreadpoolController

        _controller_for[:] = [(len(sys.modules), ThreadpoolController())]
    return _controller_for[0][1]


def caps_library_threads(name: str, kind: str) -> bool:
    """Whether a backend runs one item at a time per process (so a per-item cap is its own)."""
    return kind == "processes" or name == "sequential"
