"""Poolside's log: the standard :mod:`logging` module, under the ``poolside`` logger.

What is logged is the engine's *lifecycle*, never a line per item::

    poolside.engine              run start (backend, workers, timeout) and end (the summary)
                                 chunks handed back to run again, and why
    poolside.backends.processes  workers started, adopted, parked, killed and replaced (why)
    poolside.backends.threads    a hung thread left behind and replaced

Silent by default: the ``poolside`` logger has a :class:`logging.NullHandler`,
as a library's should, so an application that configures logging gets these
records through its own handlers.  Two switches print them to stderr:

* ``POOLSIDE_LOG=debug`` (or ``info``, ``warning``, ``error``) in the
  environment, anywhere: the CLI, the window, a script that calls ``run``;
* ``poolside -v …`` (info) or ``-vv`` (debug) on the command line.

Every module that logs takes its logger from :func:`get_logger`, so the
environment variable is read as soon as anything could log.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["ENV_VAR", "FORMAT", "LOGGER", "configure", "get_logger", "level_from_env"]

LOGGER = "poolside"
ENV_VAR = "POOLSIDE_LOG"
#: Time to the millisecond, level, which part of Poolside, which thread: enough
#: to line a worker's death up with the run it belonged to.
FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
DATEFMT = "%H:%M:%S"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}

_root = logging.getLogger(LOGGER)
_root.addHandler(logging.NullHandler())
_stderr: logging.Handler | None = None
_env_read = False


def level_from_env() -> int | None:
    """The level ``POOLSIDE_LOG`` asks for (a name or a number), ``None`` when unset."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    if value not in _LEVELS:
        print(f"poolside: {ENV_VAR}={value!r} is not a level "
              f"({', '.join(_LEVELS)}); logging at debug", file=sys.stderr)
        return logging.DEBUG
    return _LEVELS[value]


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest, a GUI redirect swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure(level: int | str) -> logging.Handler:
    """Print Poolside's records from ``level`` up to stderr (once; a second call sets the level)."""
    global _stderr
    if isinstance(level, str):
        level = _LEVELS[level.lower()]
    if _stderr is None:
        _stderr = _Stderr()
        _stderr.setFormatter(logging.Formatter(FORMAT, DATEFMT))
        _root.addHandler(_stderr)
    _stderr.setLevel(level)
    enable(level)
    return _stderr


def enable(level: int) -> None:
    """Let records from ``level`` up reach the handlers (the logger's level never rises here)."""
    current = _root.level or logging.WARNING
    if level < current:
        _root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    """The logger for module ``name`` (``__name__``); reads ``POOLSIDE_LOG`` the first time."""
    global _env_read
    if not _env_read:
        _env_read = True
        level = level_from_env()
        if level is not None:
            configure(level)
    return logging.getLogger(name)
