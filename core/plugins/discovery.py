"""Finding plugins: the built-ins, installed packages, and a user's ``.py`` file.

    discover() ----> built-ins (poolside.plugins.builtins.BUILTINS)
                +--> entry points, group "poolside.plugins" (installed packages)
                =    (plugins, errors)

    load_plugin_file("my.py") -> every plugin function in the file
    get_plugin("sha256" | "my.py:func" | "my.py") -> one Plugin, or PluginError

Every source is loaded on its own: an import error, a bad signature or a name
already taken becomes a :class:`PluginError` in the returned list, and the
others load regardless.

An installed package declares its plugins in its metadata::

    [project.entry-points."poolside.plugins"]
    resize = "mypkg.tasks:resize"        # one function
    more = "mypkg.more_tasks"            # or a module: its plugin functions

Which functions of a module or file are plugins: those marked with
``@plugin``; if none is marked, every public function defined there.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import types
from typing import Any

from ..records import describe_error
from ._task import load_module_file
from .base import Plugin, PluginError, from_function, is_marked
from .builtins import BUILTINS

ENTRY_POINT_GROUP = "poolside.plugins"
BUILT_IN = "built-in"


def discover() -> tuple[list[Plugin], list[PluginError]]:
    """The built-in and installed plugins, and what went wrong loading any others."""
    plugins: list[Plugin] = []
    errors: list[PluginError] = []
    for module, name in BUILTINS:
        try:
            fn = getattr(importlib.import_module(module), name)
            plugins.append(from_function(fn, source=BUILT_IN))
        except PluginError as e:
            errors.append(e)
        except Exception as e:  # a built-in should never fail; if it does, say so
            errors.append(PluginError(BUILT_IN, f"{module}.{name}: {_exc(e)}"))
    for found, error in _entry_point_plugins():
        if error is not None:
            errors.append(error)
        else:
            plugins.append(found)
    return _unique(plugins, errors)


def _entry_point_plugins():
    try:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception as e:  # broken metadata on sys.path
        yield None, PluginError(f"entry points {ENTRY_POINT_GROUP!r}", _exc(e))
        return
    for ep in entry_points:
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        source = f"entry point {dist}"
        label = f"{ep.name} = {ep.value}"
        try:
            obj = ep.load()
        except BaseException as e:  # SystemExit or KeyboardInterrupt from an import: still isolated
            if isinstance(e, KeyboardInterrupt):
                raise
            yield None, PluginError(source, f"{label}: cannot import: {_exc(e)}", ep.name)
            continue
        if isinstance(obj, types.ModuleType):
            found, errors = _module_plugins(obj, source, lambda fn: None)
            for error in errors:
                yield None, error
            for p in found:
                yield p, None
            if not found and not errors:
                yield None, PluginError(source, f"{label}: the module has no plugin functions",
                                        ep.name)
            continue
        try:
            yield from_function(obj, source=source), None
        except PluginError as e:
            yield None, PluginError(source, f"{label}: {e.reason}", ep.name)


def load_plugin_file(path: str | os.PathLike[str]) -> tuple[list[Plugin], list[PluginError]]:
    """Every plugin function in the Python file at ``path`` (executed afresh)."""
    path = os.path.abspath(os.fspath(path))
    module = _import_file(path)

    def target(fn: Any) -> tuple:
        return ("file", path, fn.__name__, module.__poolside_mtime__)

    found, errors = _module_plugins(module, path, target)
    if not found and not errors:
        errors.append(PluginError(path, "no plugin functions in it (define a public "
                                        "function, or mark one with @plugin)"))
    return _unique(found, errors)


def get_plugin(spec: str) -> Plugin:
    """One plugin: ``"sha256"``, ``"FILE.py:FUNCTION"`` or ``"FILE.py"`` (if it has one)."""
    spec = spec.strip()
    path, sep, func = spec.rpartition(":")
    if sep and (path.endswith(".py") or os.path.isfile(path)):
        return _from_file(path, func)
    if spec.endswith(".py") or os.sep in spec or (os.altsep and os.altsep in spec):
        return _from_file(spec, None)
    plugins, errors = discover()
    for p in plugins:
        if p.name == spec:
            return p
    for e in errors:  # a broken plugin of that name: say why it is broken
        if e.name == spec:
            raise e
    names = ", ".join(p.name for p in plugins)
    raise PluginError(spec, f"no plugin named {spec!r} (available: {names}; "
                            "or give FILE.py:FUNCTION)")


def _from_file(path: str, func: str | None) -> Plugin:
    if not func and func is not None:
        raise PluginError(path, "no function name after ':' (use FILE.py:FUNCTION)")
    plugins, errors = load_plugin_file(path)
    if func is None:
        if len(plugins) == 1 and not errors:
            return plugins[0]
        if errors and not plugins:
            raise errors[0]
        names = ", ".join(p.name for p in plugins)
        raise PluginError(os.path.abspath(path), f"it has {len(plugins)} plugins ({names}); "
                                                 "choose one with FILE.py:FUNCTION")
    for p in plugins:
        if p.name == func or (p.target is not None and p.target[2] == func):
            return p
    for e in errors:
        if e.name == func:
            raise e
    # Named explicitly, a function counts even where the file marks others.
    path = os.path.abspath(path)
    module = load_module_file(path, reload=False)
    fn = getattr(module, func, None)
    if inspect.isfunction(fn) and fn.__module__ == module.__name__:
        return from_function(fn, source=path,
                             target=("file", path, func, module.__poolside_mtime__))
    names = ", ".join(p.name for p in plugins) or "none"
    raise PluginError(path, f"no function {func!r} in it (plugins there: {names})", func)


def _import_file(path: str) -> types.ModuleType:
    if not os.path.exists(path):
        raise PluginError(path, "no such file")
    if not os.path.isfile(path):
        raise PluginError(path, "not a regular file")
    try:
        return load_module_file(path, reload=True)
    except SyntaxError as e:
        raise PluginError(path, f"cannot import: SyntaxError: {e.msg} (line {e.lineno})") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        raise PluginError(path, f"cannot import: {_exc(e)}") from None


def _module_plugins(module: types.ModuleType, source: str,
                    target) -> tuple[list[Plugin], list[PluginError]]:
    """The plugin functions a module defines (marked ones; else every public one)."""
    functions = [obj for name, obj in vars(module).items()
                 if inspect.isfunction(obj) and obj.__module__ == module.__name__]
    marked = [fn for fn in functions if is_marked(fn)]
    chosen = marked or [fn for fn in functions if not fn.__name__.startswith("_")]
    plugins, errors = [], []
    for fn in chosen:
        try:
            plugins.append(from_function(fn, source=source, target=target(fn)))
        except PluginError as e:
            errors.append(e)
    return plugins, errors


def _unique(plugins: list[Plugin], errors: list[PluginError]):
    """First come, first served: a later plugin may not take a name already used."""
    seen: dict[str, Plugin] = {}
    kept = []
    for p in plugins:
        if p.name in seen:
            errors.append(PluginError(p.source, f"plugin {p.name!r}: the name is already "
                                                f"taken by the one from {seen[p.name].source}",
                                      p.name))
            continue
        seen[p.name] = p
        kept.append(p)
    return kept, errors


def _exc(e: BaseException) -> str:
    text = describe_error(e).strip().splitlines()  # a plugin's exception may not even print
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
