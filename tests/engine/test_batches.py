"""Columnar outcome batches give exactly the outcomes the eager path built."""

from __future__ import annotations

from array import array

from hypothesis import given
from hypothesis import strategies as st

from poolside.engine.batches import OutcomeBatch
from poolside.records import ErrorInfo, Outcome, Status


def _eager(first, items, values, errors, elapsed, starts, worker, pid, tid) -> list[Outcome]:
    out = []
    for i, item in enumerate(items):
        error = (errors or {}).get(i)
        out.append(Outcome(first + i, item, Status.FAILED if error else Status.OK,
                           None if error else values[i], error, elapsed[i], worker, starts[i], pid, tid))
    return out


@given(n=st.integers(0, 40), first=st.integers(0, 10**6), data=st.data())
def test_a_batch_iterates_to_the_eager_outcomes(n, first, data):
    items = [f"item{i}" for i in range(n)]
    failed = data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else set()
    errors = {i: ErrorInfo("ValueError", f"bad {i}") for i in failed} or None
    values = [None if errors and i in errors else i * i for i in range(n)]
    elapsed = array("d", [i / 1000 for i in range(n)])
    starts = array("d", [1 + i / 100 for i in range(n)])
    batch = OutcomeBatch(first, items, values, errors, elapsed, starts, 1, 4242, 77)
    expected = _eager(first, items, values, errors, elapsed, starts, 1, 4242, 77)
    assert len(batch) == n
    assert list(batch) == expected
    assert list(batch) == expected  # again: iterating builds the outcomes anew
    assert all(type(o) is Outcome for o in batch)
    assert batch.count_failed() == len(failed)
