"""Columnar outcome batches: one worker batch's outcomes, kept as columns until someone iterates them.

Data flow::

    worker Done batch (values, starts, elapsed: columns) ──► dispatcher: flags, counts
        └──► OutcomeBatch (the same columns + index range, items, worker, pid, tid)
                 └──► queue ──► consumer: for outcome in job  (an Outcome made per item, here)

Why: on tiny items the engine's own cost was building an :class:`Outcome` per
item on the dispatcher thread, holding thousands of them until the consumer
took them, and the cyclic collector walking every such batch (benchmarks.probes:
~120 ns an item to build, ~155 with the collector on, and the parent process
spent ~400 ns an item in all where ``Pool.map``'s spends ~100).  Kept as
columns, a batch costs the dispatcher nothing per item; each Outcome is built by
C code (``map`` over ``zip``) when the consumer asks for the next one, and
freed before the next is built, so the tuple free list serves it and the
collector never sees a young generation fill up.

Iterating gives exactly the outcomes the eager path built, in the same order,
every time (a batch may be iterated more than once: each pass builds new
tuples).

A consumer that wants throughput more than objects takes the batches
themselves (``Job.batches()``) and reads their columns: ``values``,
``statuses``, ``indices``, ``items``, ``errors``, ``elapsed``, ``starts``.
Every item's whole outcome is there, and no ``Outcome`` is built unless the
consumer iterates: measured on 200,000 tiny items, building and dropping an
Outcome is ~100 ns an item on the caller's thread, the thread that bounds a
run of tiny items.  Outcomes that come one by one (a failure the engine
reports, a timeout, a cancel, the ordered mode's reordering) come as an
:class:`OutcomeList`, which offers the same columns.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from ..records import ErrorInfo, Outcome, Status

# Builds an Outcome from an iterable of ALL its fields (tuple.__new__ applies no
# defaults): every zip that feeds it gives one value per field.
new_outcome = functools.partial(tuple.__new__, Outcome)


class OutcomeBatch:
    """Outcomes of the consecutive input items ``first .. first+len-1``, from one worker batch.

    ``errors`` maps a position in the batch to the error of an item whose task
    raised (its status is ``failed``, its value ``None``); every other item is
    ``ok``.
    """

    __slots__ = ("first", "items", "values", "errors", "elapsed", "starts", "worker", "pid", "tid")

    def __init__(self, first: int, items: Sequence[Any], values: Sequence[Any],
                 errors: dict[int, ErrorInfo] | None, elapsed: Sequence[float], starts: Sequence[float],
                 worker: int | None, pid: int | None, tid: int | None) -> None:
        self.first = first
        self.items = items
        self.values = values
        self.errors = errors
        self.elapsed = elapsed
        self.starts = starts
        self.worker = worker
        self.pid = pid
        self.tid = tid

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[Outcome]:
        if not self.errors:
            return self._run(0, len(self.values))
        parts: list[Iterator[Outcome]] = []
        start = 0
        for i in sorted(self.errors):
            parts.append(self._run(start, i))
            parts.append(iter((self._failed(i),)))
            start = i + 1
        parts.append(self._run(start, len(self.values)))
        return itertools.chain.from_iterable(parts)

    def _run(self, lo: int, hi: int) -> Iterator[Outcome]:
        """Outcomes ``lo .. hi-1`` of the batch, all ok, built one by one as they are taken."""
        repeat = itertools.repeat
        first = self.first + lo
        whole = lo == 0 and hi == len(self.values)
        # map calls tuple.__new__(Outcome, fields) directly: ~12 ns an item less
        # than through a partial (96 against 108 ns to build and drop one).
        return map(tuple.__new__, repeat(Outcome), zip(
            range(first, first + hi - lo),
            self.items if whole else self.items[lo:hi],
            repeat(Status.OK, hi - lo),
            self.values if whole else self.values[lo:hi],
            repeat(None),
            self.elapsed if whole else self.elapsed[lo:hi],
            repeat(self.worker),
            self.starts if whole else self.starts[lo:hi],
            repeat(self.pid),
            repeat(self.tid),
        ))

    def _failed(self, i: int) -> Outcome:
        assert self.errors is not None
        return Outcome(self.first + i, self.items[i], Status.FAILED, None, self.errors[i],
                       self.elapsed[i], self.worker, self.starts[i], self.pid, self.tid)

    def outcomes(self) -> list[Outcome]:
        return list(self)

    def count_failed(self) -> int:
        return len(self.errors) if self.errors else 0

    # -- columns (Job.batches()) ------------------------------------------------

    @property
    def indices(self) -> range:
        """Each outcome's position in the input."""
        return range(self.first, self.first + len(self.values))

    @property
    def statuses(self) -> list[Status]:
        """Each outcome's status: ``ok``, or ``failed`` where the task raised."""
        statuses = [Status.OK] * len(self.values)
        for i in self.errors or ():
            statuses[i] = Status.FAILED
        return statuses

    def count(self, status: Status | str) -> int:
        """How many outcomes of the batch have ``status``."""
        failed = self.count_failed()
        if status == Status.FAILED:
            return failed
        return len(self.values) - failed if status == Status.OK else 0

    @property
    def workers(self) -> list[int | None]:
        return [self.worker] * len(self.values)


class OutcomeList:
    """Outcomes that came one by one, with the columns of an :class:`OutcomeBatch`."""

    __slots__ = ("outcomes",)

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        self.outcomes = outcomes

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def _column(self, field: int) -> list[Any]:
        return [o[field] for o in self.outcomes]

    @property
    def indices(self) -> list[int]:
        return self._column(0)

    @property
    def items(self) -> list[Any]:
        return self._column(1)

    @property
    def statuses(self) -> list[Status]:
        return self._column(2)

    @property
    def values(self) -> list[Any]:
        return self._column(3)

    @property
    def errors(self) -> dict[int, ErrorInfo] | None:
        return {i: o.error for i, o in enumerate(self.outcomes) if o.error is not None} or None

    @property
    def elapsed(self) -> list[float]:
        return self._column(5)

    @property
    def workers(self) -> list[int | None]:
        return self._column(6)

    @property
    def starts(self) -> list[float | None]:
        return self._column(7)

    def count(self, status: Status | str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)
