"""``latency``: wait a set time per item, like a slow disk or a remote call.

Sleeping releases the GIL and uses no CPU, so throughput grows with the number
of workers on any backend; threads get there without starting processes.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from ..base import Range, plugin


@plugin(bound="io", columns=("waited_ms",))
def latency(item: Any, ms: Annotated[float, Range(0, 3_600_000)] = 100.0) -> dict:
    """Wait a given time per item (simulated I/O: no CPU, the GIL released).

    Args:
        ms: how long each item waits, in milliseconds.
    """
    start = time.perf_counter()
    time.sleep(ms / 1000)
    return {"waited_ms": round((time.perf_counter() - start) * 1000, 3)}
