"""A plugin file whose top level leaves a mark: a line in the file ``$POOLSIDE_TEST_MARKER`` names.

The window tests use it to see when a plugin file's code runs (never before the user runs it)."""

import os
from pathlib import Path

_marker = os.environ.get("POOLSIDE_TEST_MARKER")
if _marker:
    with open(_marker, "a", encoding="utf-8") as f:
        f.write(f"imported in process {os.getpid()}\n")


def name_size(path, extra: int = 0):
    """The file's size in bytes, plus extra."""
    return Path(path).stat().st_size + extra
