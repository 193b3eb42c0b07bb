"""Lazy package exports (PEP 562), shared by ``core`` and ``poolside.plugins``.

A worker process imports only what its task needs; a package ``__init__`` that
imported every public name up front would load the engine, psutil or the
plugin discovery into every worker.  Each name is imported on first use and
then kept in the package's namespace.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
