"""``primes``: a pure-Python CPU burn whose size is a setting.

Trial division in Python bytecode: the interpreter holds the GIL the whole
time, so N threads take as long as one and N processes finish N times faster.
The item is only a unit of work (a file name, a number); every item does the
same computation, which makes runs easy to compare.
"""

from __future__ import annotations

from typing import Annotated, Any

from ..base import Range, plugin


@plugin(bound="cpu", columns=("primes", "largest"))
def primes(item: Any, limit: Annotated[int, Range(2, 100_000_000)] = 100_000) -> dict:
    """Count primes below a limit by trial division, in pure Python (the GIL made visible).

    Args:
        limit: count the primes below this number; the work grows a little
            faster than the limit (100000 takes roughly 0.1 s on one core).
    """
    count = 1 if limit > 2 else 0
    largest = 2 if limit > 2 else None
    for n in range(3, limit, 2):
        d = 3
        while d * d <= n:
            if n % d == 0:
                break
            d += 2
        else:
            count += 1
            largest = n
    return {"primes": count, "largest": largest}
