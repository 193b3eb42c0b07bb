"""Run chunks on a Dask cluster: for a job that outgrows one machine.

Point it at a scheduler (``run(..., backend="dask",
backend_options={"address": "tcp://scheduler:8786"})``, ``poolside run
--address``, or the ``POOLSIDE_DASK_ADDRESS`` environment variable); without
one, it starts a local cluster of worker processes, which shows the cost of
Dask's machinery on one machine.  Needs ``pip install poolside[dask]``.

The plugin travels with every chunk, and the files when they must
(``backend_options={"files": "shared" | "shipped"}``, see
``poolside.backends.dask_ship``): *shared*, the workers read the item paths
themselves (checked on the first chunk); *shipped*, the client sends each
file's bytes and gets the plugin's outputs back.

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
import uuid
from collections.abc import Callable
from typing import Any

from ..plugins._task import BoundTask
from ..records import ErrorInfo, describe_error
from ._adapter import PoolAdapter
from .base import BackendError
from .dask_ship import (
    ClusterTask,
    Returned,
    call_chunk_here,
    first_path,
    inner_task,
    pack,
    place,
    plugin_source,
    remove_run_folders,
)
from .protocol import Chunk, Done, Event, Retry

ADDRESS_VARIABLE = "POOLSIDE_DASK_ADDRESS"
#: How files reach the workers: ``shared`` (they read the paths) or ``shipped`` (sent as bytes).
FILE_MODES = ("shared", "shipped")
#: A shipped file over this is not read (its item fails saying so): a chunk's
#: bytes travel through the scheduler in the task, which Dask advises to keep small.
DEFAULT_SHIP_LIMIT_MB = 64
# How long a scheduler may take to answer before its address is called wrong.
_CONNECT_S = 5
# How long the client may be cut off from its scheduler before the run ends:
# Dask reconnects on its own after a short network blip.
_GONE_S = 3.0


def cluster_address(spec: Any) -> str | None:
    """The scheduler a job spec's run goes to: its ``address`` option, else the environment's;
    ``None`` for a local cluster or another backend."""
    if getattr(spec, "backend", None) != "dask":
        return None
    return (getattr(spec, "backend_options", None) or {}).get("address") or os.environ.get(ADDRESS_VARIABLE) or None


class ClusterLost(BackendError):
    """The scheduler went away: the items not done end ``cancelled`` (they were not at fault)."""

    cancels = True


class DaskBackend(PoolAdapter):
    name = "dask"
    library = "dask"
    label = "Dask cluster"
    description = (
        "Dask distributed: runs the same job on a cluster of machines (give its scheduler's "
        "address), or on a local cluster of processes to compare. Wins when one machine "
        "is not enough; on one machine its scheduler costs more than Processes."
    )
    kind = "cluster"
    wins = "a job that outgrows one machine"

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float, address: str | None = None,
                 files: str = "shared", ship_limit_mb: float = DEFAULT_SHIP_LIMIT_MB) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        if files not in FILE_MODES:
            raise ValueError(f"the dask backend's files mode must be one of {', '.join(FILE_MODES)}, "
                             f"got {files!r}")
        if not (isinstance(ship_limit_mb, (int, float)) and ship_limit_mb > 0):
            raise ValueError(f"ship_limit_mb must be a number of megabytes above 0, got {ship_limit_mb!r}")
        self._address = address or os.environ.get(ADDRESS_VARIABLE) or None
        self.files = files
        self._limit = int(ship_limit_mb * 2**20)
        # Bytes of shipped files in flight: at most this (or one chunk), so the
        # client's memory stays bounded whatever the input.
        self._budget = max(4 * self._limit, 256 * 2**20)
        self._bytes: dict[int, int] = {}
        self._checked = files == "shipped"  # shared storage is checked on the first chunk
        self._run_id = uuid.uuid4().hex[:12]
        self._remote: ClusterTask | None = None
        self._cluster: Any = None
        self._client: Any = None
        self._futures: set[Any] = set()
        self._cut_off_since: float | None = None
        self._where: dict[int, str] = {}  # a worker process's pid -> its Dask worker's address
        # Suspects still to run (see the module docstring), and the chunk ids
        # that were submitted as one item with nothing else in flight.
        self._suspects = 0
        self._isolated: set[int] = set()

    @property
    def address(self) -> str | None:
        """The scheduler's address (a local cluster's once started), or ``None``."""
        if self._cluster is not None:
            return str(self._cluster.scheduler_address)
        return self._address

    def start(self) -> None:
        try:
            from distributed import Client, KilledWorker
        except ImportError as exc:
            raise ValueError("the dask backend needs the 'distributed' package: "
                             "pip install 'poolside[dask]'") from exc
        self._killed_worker = KilledWorker
        self._remote = ClusterTask(self.task, plugin_source(self.task), self._outputs(),
                                   self._run_id, self._limit)
        if self._address:
            self._client = connect(self._address)
            threads = sum(self._client.nthreads().values())
            if not threads:
                raise ValueError(f"the Dask scheduler at {self._address} has no workers: start some with "
                                 f"'dask worker {self._address}'")
            self.workers = max(1, threads)
        else:
            self._cluster = local_cluster(self.workers)
            # The cluster's own credentials: without them its scheduler refuses us too.
            self._client = Client(self._cluster, security=self._cluster.security)

    def _outputs(self) -> tuple[str, ...]:
        """The plugin's declared output settings, brought back from the workers in shipped mode."""
        task = inner_task(self.task)
        if self.files != "shipped" or not isinstance(task, BoundTask):
            return ()
        from ..plugins._task import resolve
        from ..plugins.base import from_function

        target = task.target
        plugin = from_function(resolve(target), source=str(target[1]), target=target)
        return plugin.outputs

    def free_slots(self) -> int:
        if self._suspects:
            return 0 if self._in_flight else 1  # a suspect runs alone on the cluster
        if self._bytes and sum(self._bytes.values()) >= self._budget:
            return 0
        if self._client is not None and self._client.status != "running":
            return 0  # cut off from the scheduler: nothing to hand it (see poll)
        return super().free_slots()

    def submit(self, chunk: Chunk) -> list[Event]:
        if not self._checked:
            self._check_shared(chunk)
        if self._suspects and len(chunk.items) == 1 and not self._in_flight:
            self._suspects -= 1
            self._isolated.add(chunk.id)
        return super().submit(chunk)

    def _check_shared(self, chunk: Chunk) -> None:
        """Shared storage: a worker must read the first path, or the run stops saying what to do."""
        path = first_path(chunk.items)
        if path is None:
            return
        self._checked = True
        if not os.path.exists(path):
            # Not a file here either (a string item that names something else, or a
            # file gone): the task says what it makes of it, as on any backend.
            return
        problem = self._client.submit(unreadable, path, pure=False).result(timeout=60)
        if problem:
            raise BackendError(f"the Dask workers cannot read the input files (files mode: shared): "
                               f"{problem}; put them on storage every worker mounts at the same path, "
                               "or ship them (--files shipped)")

    def _as_event(self, chunk: Chunk, result: Done | BaseException | Retry) -> Event:
        self._bytes.pop(chunk.id, None)
        isolated = chunk.id in self._isolated
        self._isolated.discard(chunk.id)
        if isinstance(result, self._killed_worker):
            if isolated:  # it ran alone and killed its workers: the culprit
                result = Retry(chunk.id, alone=True, error=ErrorInfo(
                    "KilledWorker", f"its Dask worker died each time it ran it: {describe_error(result)}"))
            else:
                self._suspects += len(chunk.items)
                result = Retry(chunk.id, alone=True)
        elif isinstance(result, Done):
            result = self._placed(result)
        return super()._as_event(chunk, result)

    def _placed(self, done: Done) -> Done:
        """Outputs brought back written into the client's folders (an item whose output cannot be, fails)."""
        errors = list(done.errors or [])
        values = list(done.values)
        for i, value in enumerate(values):
            if isinstance(value, Returned):
                try:
                    values[i] = place(value, self.task)
                except Exception as exc:
                    values[i] = None
                    errors.append((i, ErrorInfo(type(exc).__name__,
                                                f"bringing its outputs back failed: {describe_error(exc)}")))
        return done._replace(values=values, errors=errors or None)

    def poll(self, timeout: float) -> list[Event]:
        events = super().poll(timeout)
        status = getattr(self._client, "status", "running")
        if status == "running":
            self._cut_off_since = None
        elif self._cut_off_since is None:
            self._cut_off_since = time.monotonic()
        elif time.monotonic() - self._cut_off_since > _GONE_S:
            raise ClusterLost(f"the Dask scheduler at {self.address} went away (the client is {status}); "
                              "the items not done were cancelled")
        return events

    def _submit(self, chunk: Chunk, finished: Callable[[Chunk, Any], None]) -> None:
        sent = chunk
        if self.files == "shipped":
            packed = [pack(item, self._limit) for item in chunk.items]
            self._bytes[chunk.id] = sum(n for _, n in packed)
            sent = Chunk(chunk.id, [item for item, _ in packed])
        future = self._client.submit(call_chunk_here, self._remote, sent, self.origin, pure=False)
        self._futures.add(future)
        future.add_done_callback(lambda f: finished(chunk, self._outcome(f, chunk)))

    def _outcome(self, future: Any, chunk: Chunk) -> Done | BaseException | Retry:
        """What a future that stopped pending means for its chunk (see the module docstring)."""
        self._futures.discard(future)
        status = future.status
        if status == "finished":
            try:
                done, where = future.result()
                if where:
                    self._where[done.pid] = where
                return self._rebase(done)
            except Exception as exc:
                # Its worker died, or the connection broke (an OSError, as Dask's CommClosedError
                # is), while the result was fetched: the chunk ran, its result is out of reach.
                if future.status != "lost" and not isinstance(exc, OSError):
                    return exc
                status = "lost"
        if status == "cancelled":
            if self._client.status != "running":
                # Cut off from the scheduler, the client cancels what it waited for: the
                # chunk goes back to the engine, run again if the scheduler comes back
                # (else poll ends the run, the items cancelled).
                return Retry(chunk.id, alone=False)
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
                    self._client.cancel(list(self._futures), force=True)
                self._sweep()
                self._client.close()
        finally:
            if self._cluster is not None:
                cluster, self._cluster = self._cluster, None
                cluster.close()


    def process_names(self) -> dict[int, str]:
        """Each worker process that ran a chunk, by pid: ``"Dask worker tcp://HOST:PORT"`` (a trace's track names)."""
        return {pid: f"Dask worker {where}" for pid, where in self._where.items()}

    def _sweep(self) -> None:
        """Remove this run's temp folders from every worker (a cancelled item's included)."""
        if self.files != "shipped" or self._client.status != "running":
            return
        try:
            self._client.run(remove_run_folders, self._run_id, on_error="ignore")
        except Exception as e:  # a worker or the scheduler going away: Dask's own cleanup remains
            from ..log import get_logger

            get_logger(__name__).warning("removing the run's temp folders from the Dask workers failed: %s", e)


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``; a clear ``ValueError`` within seconds if it cannot be reached."""
    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.registry import backends

    # Checked first: a Client given a malformed address blocks ~10 s as it is collected.
    try:
        scheme, location = parse_address(address)
    except ValueError as exc:
        raise ValueError(f"{address!r} is not a Dask scheduler address (like tcp://HOST:8786): {exc}") from None
    if scheme not in backends or not location:
        why = (f"the protocol is one of {', '.join(sorted(backends))}" if scheme not in backends
               else "it names no host")
        raise ValueError(f"{address!r} is not a Dask scheduler address (like tcp://HOST:8786): {why}")
    try:
        return Client(address, timeout=f"{_CONNECT_S}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach a Dask scheduler at {address} within {_CONNECT_S} s "
                         f"({describe_error(exc)}); is it running, and is the address right?") from None
    except ValueError as exc:  # a malformed address
        raise ValueError(f"{address!r} is not a Dask scheduler address (like tcp://HOST:8786): {exc}") from None


def unreadable(path: str) -> str:
    """Why a worker cannot read ``path`` (run on a worker), or ``""``."""
    import socket

    if os.access(path, os.R_OK):
        return ""
    where = socket.gethostname()
    return f"{path} is not readable on the worker on {where}" + ("" if os.path.exists(os.path.dirname(path))
                                                                  else " (its folder does not exist there)")


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
