"""Outcomes for tests of what reads them (tables, exports): one that succeeded, one that failed."""

from __future__ import annotations

from typing import Any

from poolside.records import ErrorInfo, Outcome, Status


def ok(i: int, value: Any = None, worker: int = 0) -> Outcome:
    return Outcome(i, f"/data/f{i}.txt", Status.OK, value, None, 0.001 * (i % 7), worker, 0.01 * i)


def failed(i: int) -> Outcome:
    err = ErrorInfo("ValueError", f"bad {i}", "Traceback (most recent call last):\n  ...\nValueError: bad")
    return Outcome(i, f"/data/f{i}.txt", Status.FAILED, None, err, 0.002, 1, 0.01 * i)
