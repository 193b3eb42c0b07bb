"""Run chunks on a Dask cluster: for a job that outgrows one machine.

Point it at a scheduler (``run(..., backend="dask",
backend_options={"address": "tcp://scheduler:8786"})``, or the
``POOLSIDE_DASK_ADDRESS`` environment variable); without one, it starts a
local cluster of worker processes, which shows the cost of Dask's machinery on
one machine.  Needs ``pip install poolside[dask]``.

The local cluster listens on 127.0.0.1, where every user of the machine can
reach it, and a Dask client may run any code on a scheduler or worker it
reaches.  So it speaks TLS with mutual authentication on credentials made for
the run (``Security.temporary()``): a self-signed certificate and key held
in memory by this process and handed to its own worker processes, so a
client without them is refused.  (To load them, ``distributed`` writes them
for an instant into a temporary folder that only this user can open.)  A
cluster given by address is the user's own, with their own security
(``distributed`` reads it from Dask's config).

Chunks are submitted as Dask tasks (``client.submit(call_chunk, ...)``), so a
chunk is the unit Dask schedules, retries and moves between machines; the
engine's auto-chunking keeps each around 25 ms of work, well above Dask's own
per-task overhead (~1 ms).  Per-item timeouts are not offered: Dask cannot
stop a running task.

A worker that dies costs only its own chunks, as on the processes backend::

    future of a chunk ──finished──► Done
                      ──lost──────► Retry(chunk): its result died with a worker
                                    after it ran; the chunk is innocent, run again
                      ──error: KilledWorker──► Retry(chunk, alone): the scheduler
                                    already ran it on allowed-failures + 1 workers
                                    that all died; each item runs again alone
                      ──error: other──► every item of the chunk fails with it

Naming the culprit needs care: when a worker dies, the scheduler counts the
death against *every* task it had sent there, the queued ones too, so an
innocent task can reach ``KilledWorker`` as well.  So the items of such a chunk
(the *suspects*) run one at a time with nothing else in flight on the cluster,
and only a suspect that meets ``KilledWorker`` while running alone is failed
with it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, describe_error
from ._adapter import PoolAdapter
from ._worker import call_chunk
from .protocol import Chunk, Done, Event, Retry

ADDRESS_VARIABLE = "POOLSIDE_DASK_ADDRESS"


class DaskBackend(PoolAdapter):
    name = "dask"
    library = "dask"
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
        self._client: Any = None
        self._futures: set[Any] = set()
        # Suspects still to run (see the module docstring), and the chunk ids
        # that were submitted as one item with nothing else in flight.
        self._suspects = 0
        self._isolated: set[int] = set()

    def start(self) -> None:
        try:
            from distributed import Client, KilledWorker
        except ImportError as exc:
            raise ValueError("the dask backend needs the 'distributed' package: "
                             "pip install 'poolside[dask]'") from exc
        self._killed_worker = KilledWorker
        if self._address:
            self._client = Client(self._address, timeout="10s")
            threads = sum(self._client.nthreads().values())
            self.workers = max(1, threads)
        else:
            self._cluster = local_cluster(self.workers)
            # The cluster's own credentials: without them its scheduler refuses us too.
            self._client = Client(self._cluster, security=self._cluster.security)

    def free_slots(self) -> int:
        if self._suspects:
            return 0 if self._in_flight else 1  # a suspect runs alone on the cluster
        return super().free_slots()

    def submit(self, chunk: Chunk) -> list[Event]:
        if self._suspects and len(chunk.items) == 1 and not self._in_flight:
            self._suspects -= 1
            self._isolated.add(chunk.id)
        return super().submit(chunk)

    def _as_event(self, chunk: Chunk, result: Done | BaseException | Retry) -> Event:
        isolated = chunk.id in self._isolated
        self._isolated.discard(chunk.id)
        if isinstance(result, self._killed_worker):
            if isolated:  # it ran alone and killed its workers: the culprit
                result = Retry(chunk.id, alone=True, error=ErrorInfo(
                    "KilledWorker", f"its Dask worker died each time it ran it: {describe_error(result)}"))
            else:
                self._suspects += len(chunk.items)
                result = Retry(chunk.id, alone=True)
        return super()._as_event(chunk, result)

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        future = self._client.submit(call_chunk, self.task, chunk, self.origin, pure=False)
        self._futures.add(future)
        future.add_done_callback(lambda f: finished(chunk, self._outcome(f, chunk)))

    def _outcome(self, future: Any, chunk: Chunk) -> Done | BaseException | Retry:
        """What a future that stopped pending means for its chunk (see the module docstring)."""
        self._futures.discard(future)
        status = future.status
        if status == "finished":
            try:
                return self._rebase(future.result())
            except Exception as exc:
                if future.status != "lost":
                    return exc
                status = "lost"  # its worker died while the result was fetched
        if status == "cancelled":
            return RuntimeError("the Dask task was cancelled")
        if status == "error":
            return future.exception()  # a KilledWorker is sorted out by _as_event
        # "lost": it ran, but the worker holding its result died.  Stop the
        # scheduler from recomputing it (the engine hands the chunk out again).
        try:
            future.release()
        except Exception as e:  # a scheduler already gone: nothing is recomputed then either
            from ..log import get_logger

            get_logger(__name__).debug("releasing a lost Dask future failed: %s", e)
        return Retry(chunk.id, alone=False)

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
        # Called after a failed start too, so the client may be missing; the
        # local cluster is closed whatever the client does, or its processes
        # would outlive the run.
        try:
            if self._client is not None:
                if cancel and self._futures:
                    self._client.cancel(list(self._futures))
                self._client.close()
        finally:
            if self._cluster is not None:
                cluster, self._cluster = self._cluster, None
                cluster.close()


def local_cluster(workers: int) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded processes that only this process can use.

    Its scheduler and workers listen on 127.0.0.1 over TLS and require a
    client certificate made for this cluster alone (see the module
    docstring); ``cluster.security`` holds the credentials a client needs.
    """
    try:
        import dask
        from distributed import LocalCluster
        from distributed.security import Security
    except ImportError as exc:
        raise ValueError("the dask backend needs the 'distributed' package: "
                         "pip install 'poolside[dask]'") from exc
    try:
        security = Security.temporary()
    except ImportError as exc:
        raise ValueError("the dask backend's local cluster needs the 'cryptography' package for its "
                         "credentials: pip install 'poolside[dask]'") from exc
    # Scheduler and workers serve HTTP beside the TLS port whatever the
    # dashboard setting, in plain text and to anyone on the machine; by
    # default its pages show task names, worker logs and call stacks.  Only
    # the health check stays.  The nannies hand this config on to the worker
    # processes they start.
    with dask.config.set({"distributed.scheduler.http.routes": ["distributed.http.health"],
                          "distributed.worker.http.routes": ["distributed.http.health"]}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            host="127.0.0.1", protocol="tls://", security=security,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
