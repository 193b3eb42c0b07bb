"""Poolside's bundled files: icons, the stylesheet, sample inputs and the desktop entry.

Installed, this folder is the package ``poolside.resources``; everything in it is
found through :mod:`importlib.resources`, never through a path relative to the
checkout, so a wheel, ``pipx`` and an editable install all find the same files.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path
from contextlib import AbstractContextManager

__all__ = ["resource", "resource_path", "samples"]


def resource(*parts: str) -> Traversable:
    """A bundled file or folder, e.g. ``resource("styles", "poolside.qss")``."""
    node = files(__name__)
    for part in parts:
        node = node / part
    return node


def resource_path(*parts: str) -> AbstractContextManager[Path]:
    """A real file-system path for a bundled file, for APIs that want one (Qt icons)."""
    return as_file(resource(*parts))


def samples() -> AbstractContextManager[Path]:
    """The bundled sample folder as a path: ``with samples() as folder: ...``."""
    return resource_path("samples")
