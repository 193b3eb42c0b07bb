"""What every command shares: exit codes, the usage error, argument types."""

from __future__ import annotations

import argparse
import io
import math
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# A run stopped by a signal exits 128 + its number, as a shell reports a process it killed:
# 130 Ctrl-C (SIGINT), 143 SIGTERM (kill, timeout, systemd, docker stop), 129 SIGHUP (the terminal closed).
EXIT_TERMINATED, EXIT_HANGUP = 143, 129
PROG = "poolside"


class UsageError(Exception):
    """A mistake in how the command was called: reported in one line, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse would sys.exit(2)
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def size(text: str) -> int:
    """A size flag (``2GB``, ``512MB``, ``1.5 GiB``) in bytes, read by ``words.units.parse_size``."""
    from ..words.units import SizeError, parse_size

    try:
        return parse_size(text)
    except SizeError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def chunk_size(text: str) -> int | str:
    return "auto" if text.strip().lower() == "auto" else positive_int(text)



def silence_stdout() -> None:
    """Point stdout at /dev/null: the reader of a pipe left, and Python would
    complain about the closed pipe when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
