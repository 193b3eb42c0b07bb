"""Run chunks on a Dask cluster: for a job that outgrows one machine.

Point it at a scheduler (``run(..., backend="dask",
backend_options={"address": "tcp://scheduler:8786"})``, or the
``POOLSIDE_DASK_ADDRESS`` environment variable); without one, it starts a
local cluster of worker processes, which shows the cost of Dask's machinery on
one machine.  Needs ``pip install poolside[dask]``.

Chunks are submitted as Dask tasks (``client.submit(call_chunk, ...)``), so a
chunk is the unit Dask schedules, retries and moves between machines; the
engine's auto-chunking keeps each around 25 ms of work, well above Dask's own
per-task overhead (~1 ms).  Per-item timeouts are not offered: Dask cannot
stop a running task.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ._worker import Chunk, Done, call_chunk
from .classic import PoolAdapter

ADDRESS_VARIABLE = "POOLSIDE_DASK_ADDRESS"


class DaskBackend(PoolAdapter):
    name = "dask"
    label = "Dask cluster"
    description = (
        "Dask distributed: runs the same job on a cluster of machines (set POOLSIDE_DASK_ADDRESS "
        "to its scheduler), or on a local cluster of processes to compare. Wins when one machine "
        "is not enough; on one machine its scheduler costs more than Processes."
    )
    kind = "cluster"
    wins = "a job that outgrows one machine"

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float, address: str | None = None) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._address = address or os.environ.get(ADDRESS_VARIABLE) or None
        self._cluster: Any = None
        self._futures: set[Any] = set()

    def start(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ValueError("the dask backend needs the 'distributed' package: "
                             "pip install 'poolside[dask]'") from exc
        if self._address:
            self._client = Client(self._address, timeout="10s")
            threads = sum(self._client.nthreads().values())
            self.workers = max(1, threads)
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = self._client.submit(call_chunk, self.task, chunk, self.origin, pure=False)
        self._futures.add(future)

        def done(f: Any) -> None:
            self._futures.discard(f)
            if f.status == "finished":
                finished(chunk, self._rebase(f.result()))
            elif f.status == "cancelled":
                finished(chunk, RuntimeError("the Dask task was cancelled"))
            else:
                finished(chunk, f.exception())

        future.add_done_callback(done)

    def _rebase(self, done: Done) -> Done:
        """Move remote start times onto this machine's clock.

        Another machine's monotonic clock has nothing to do with ours; the
        chunk ended about when its result arrived, so shift it to end then.
        """
        if not done.starts:
            return done
        shift = (time.perf_counter() - self.origin) - (done.starts[-1] + done.elapsed[-1])
        return done._replace(starts=[s + shift for s in done.starts])

    def shutdown(self, cancel: bool) -> None:
        if cancel and self._futures:
            self._client.cancel(list(self._futures))
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
