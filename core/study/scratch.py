"""Outputs of a study's runs go to a scratch folder, a fresh one per run, deleted after it.

    BoundTask(out=/user/thumbs) ──Scratch.task()──► BoundTask(out=/tmp/poolside-study-x/run-7)
                                                     run ... then the folder is removed

A comparison repeats the job a dozen times: it must never write into the
user's output folder (nor collide with its own earlier outputs, which would
turn "write" into "rename" and change the work being timed).  Only settings a
plugin marks as :class:`~poolside.plugins.Output` are redirected; inputs are
never touched.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Scratch:
    def __init__(self, task: Callable[[Any], Any], outputs: tuple[str, ...]) -> None:
        self._task = task
        self._outputs = outputs if hasattr(task, "kwargs") else ()
        self._root: Path | None = None
        self._runs = itertools.count()

    @property
    def redirects(self) -> bool:
        return bool(self._outputs)

    @property
    def root(self) -> Path | None:
        return self._root

    @contextmanager
    def task(self) -> Iterator[Callable[[Any], Any]]:
        """The task for one run; its output settings point into a fresh folder, removed afterwards."""
        if not self._outputs:
            yield self._task
            return
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="poolside-study-"))
        folder = self._root / f"run-{next(self._runs)}"
        from ..plugins._task import BoundTask

        task: Any = self._task
        kwargs = dict(task.kwargs)
        for name in self._outputs:
            kwargs[name] = folder / name
        try:
            yield BoundTask(task.target, kwargs, task.name, task.as_path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
