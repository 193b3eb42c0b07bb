"""The picklable task a bound plugin becomes, and how a worker finds the function.

    parent:  Plugin.bind(values) -> BoundTask(target, kwargs)  --pickle-->
    worker:  BoundTask(item) -> resolve(target) -> check_input(item) -> fn(item, **kwargs)
                                  (a str item becomes a Path first when the function's
                                  item parameter is a Path: callers may pass either)
                                  |
                                  +- ("module", "pkg.mod", "func"): importlib.import_module
                                  +- ("file", "/abs/plug.py", "func", mtime): exec the file once
                                     per process and per version of it (spawn and forkserver
                                     workers start without the parent's modules)

A task never carries the function itself: pickling a function pickles a
reference by module name, and a module loaded from a user's file has no
importable name.  Carrying the file path and importing it lazily works with any
start method and needs no cloudpickle.

This module is what every worker imports to run a plugin, so it imports only
the standard library's light parts.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

from ._files import check_input

#: ("module", module_name, qualname) or ("file", absolute_path, function_name, mtime_ns)
TaskRef = tuple[str, str, str] | tuple[str, str, str, int]

_lock = threading.RLock()
_resolved: dict[tuple, Callable[..., Any]] = {}


class BoundTask:
    """``task(item)`` runs one plugin with fixed settings.  Cheap to pickle."""

    __slots__ = ("target", "kwargs", "name", "as_path")

    def __init__(self, target: TaskRef, kwargs: dict[str, Any], name: str,
                 as_path: bool = False) -> None:
        self.target = target
        self.kwargs = kwargs
        self.name = name
        #: The function's item parameter is a Path: turn str items into one.
        self.as_path = as_path

    def __call__(self, item: Any) -> Any:
        fn = _resolved.get(self.target) or resolve(self.target)
        if self.as_path and isinstance(item, str):
            item = Path(item)
        if isinstance(item, PurePath):
            # Every path is checked before the plugin opens it: a FIFO would
            # block the worker forever, a directory or a device is a mistake.
            check_input(item)
        return fn(item, **self.kwargs)

    @property
    def is_coroutine_function(self) -> bool:
        """Whether the plugin's function is an ``async def``: then a call returns a coroutine.

        A backend cannot see through this wrapper (``inspect.iscoroutinefunction``
        answers for ``__call__``), so it asks here and awaits what a call
        returns; the task itself still pickles by reference to the plugin.
        """
        try:
            fn = _resolved.get(self.target) or resolve(self.target)
        except Exception:
            # The plugin does not load here: each item's call raises the same
            # error where it runs and ends failed with it, as for a sync plugin.
            return False
        return inspect.iscoroutinefunction(fn)

    def __getstate__(self) -> tuple:
        return (self.target, self.kwargs, self.name, self.as_path)

    def __setstate__(self, state: tuple) -> None:
        self.target, self.kwargs, self.name, self.as_path = state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"<task {self.name}({args})>"


def resolve(target: TaskRef) -> Callable[..., Any]:
    """The function ``target`` names, imported once per process."""
    with _lock:
        fn = _resolved.get(target)
        if fn is None:
            kind, where, name = target[0], target[1], target[2]
            if kind == "module":
                obj: Any = importlib.import_module(where)
            elif kind == "file" and len(target) == 4:
                obj = load_module_file(where, reload=False)
                if getattr(obj, "__poolside_mtime__", None) != target[3]:
                    # A long-lived worker that saw an older version of the file.
                    obj = load_module_file(where, reload=True)
            else:
                raise ValueError(f"unknown task target {target!r}")
            for part in name.split("."):
                obj = getattr(obj, part)
            fn = _resolved[target] = obj
        return fn


def module_name_for(path: str) -> str:
    """A stable module name for a plugin file: the same in the parent and every worker.

    Objects a plugin returns that are instances of its own classes pickle by
    this name, so a worker's result unpickles in the parent.
    """
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    digest = zlib.crc32(os.fsencode(path)) & 0xFFFFFFFF
    return f"poolside_plugin_{stem}_{digest:08x}"


def load_module_file(path: str, *, reload: bool) -> Any:
    """Execute the Python file at ``path`` as a module (registered in ``sys.modules``).

    With ``reload`` it runs again if the file changed since it was loaded (the
    user edited it); otherwise a loaded module is reused.  A file is executed
    once per version: its top-level code is the user's, and may be slow or
    have effects (Resume reads a run's plugin to walk its inputs, and the run
    then loads it again).
    """
    name = module_name_for(path)
    with _lock:
        try:
            mtime: int | None = os.stat(path).st_mtime_ns
        except OSError:
            mtime = None
        module = sys.modules.get(name)
        if module is not None and (not reload or (
                mtime is not None and getattr(module, "__poolside_mtime__", None) == mtime)):
            return module
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path!r} as Python")
        module = importlib.util.module_from_spec(spec)
        # What resolve() compares with a task's reference to spot an edited file.
        setattr(module, "__poolside_mtime__", mtime)  # noqa: B010 (a module has no declared attributes)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        # Functions bound to an older version of this file are stale now.
        for key in [k for k in _resolved if k[0] == "file" and k[1] == path]:
            del _resolved[key]
        return module
