"""Worker processes: real parallelism for CPU-bound Python, and killable workers.

Data flow::

                 task pipe (chunks)          result pipe (Done batches)
    engine ──► [worker 0] ──────────────►  run_chunk  ──────────────────► engine
           ──► [worker 1] ...                  │
                                               └─ slot in shared memory:
                                                  chunk, offset, start, state

Each worker has its own pair of pipes, so the backend always knows which
chunks a worker holds, and a shared-memory slot that says which item it is
running.  With that, a worker that hangs past the timeout is killed (SIGKILL)
and replaced, and one that dies (``os._exit``, a segfault, the OOM killer)
costs exactly the item it was running: that item is ``Lost``, and every other
item the worker held is handed back to the engine to run again.

Why not a library pool?  ``concurrent.futures`` breaks the whole pool when one
worker dies; ``multiprocessing.Pool`` can hang; pebble and loky recover from a
dead worker, but they only see whole tasks: with items batched into chunks (the
only way to run a million tiny items a second) they cannot tell which item of a
chunk hung or crashed, nor time out one item rather than its chunk, nor stream
finished items out of a chunk that is still running.  The machinery needed for
that is the slot and per-worker pipes here; the process start-up, pipes and
shared memory are the standard library's own (``multiprocessing``).

Workers are never forked from a process that runs threads (the caller may be
the Qt window; the engine runs a dispatcher thread): forking such a process can
deadlock the child on a lock another thread held.  On Linux they are forked by
the *zygote* (``poolside.backends._zygote``): a copy of the caller forked while
it still ran one thread, which never starts one, so every fork it makes is
safe, and a worker starts in about a millisecond with the caller's imports
already loaded.  While the caller itself still runs one thread (in start(),
before the dispatcher starts), the first workers are forked from it directly,
as Pool does; every fork closes its copies of the workers' pipes at once
(``_parent_ends``).  A caller that already runs threads when it first needs workers
(and has not called :func:`prestart` earlier) uses ``forkserver`` instead:
Poolside's light forkserver (``poolside.backends._forkserver``), a fresh
interpreter that imports only the worker's modules and starts no resource
tracker.  Elsewhere, ``spawn``.  No Qt is ever in a worker: the window
imports Qt only after its zygote is forked, or uses the forkserver.

Workers outlive a run that ends normally: they are *parked*, and the next run
on this backend adopts them and sends them its task, so a run of a few
milliseconds of work does not pay ~20 ms of process start-up each time (what
loky's reusable executor does too).  A parked worker ends by itself after
``IDLE_EXIT_S`` unused, when this process exits, or at
:func:`stop_idle_workers`.  A cancelled run kills its workers: they are never
parked.  The parked pool is ``poolside.backends._parking``; killing a worker and
the processes its task started is ``poolside.backends._kill`` (``poolside.proctree.kill_tree``).
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mpc
import multiprocessing.heap
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

from ..log import get_logger
from ..records import ErrorInfo, Status, describe_error
from . import _zygote
from ._kill import _STOP_GRACE_S, kill_worker
from ._launch import _launch_worker, _parent_ends, _Proc, default_method, start_method, worker_context
from ._memcap import died, memory_cap
from ._parking import _park, _unpark
from ._pipes import FrameReader, Poller
from ._process_main import dumps_chunk, retract_message, task_message
from ._unpickle import repair_done
from ._worker import FLUSH_S, PICKLE_PROTOCOL, RUNNING, SLOT_CHUNK, SLOT_OFFSET, SLOT_START, SLOT_STATE
from .base import Backend, BackendError
from .protocol import Chunk, ChunkUnreadable, Done, Event, Lost, Ready, Retracted, Retry

log = get_logger(__name__)

# Chunks a worker holds beyond the one it runs: one, so that it never waits on
# a round trip to the engine, and no more, so that a slow chunk delays little.
PREFETCH_PER_WORKER = 1

# A chunk queued behind an item that has run this long is taken back for an
# idle worker.  Prefetching keeps workers busy between chunks, but a queued
# chunk must not wait on one slow item while another worker has nothing to do.
_TAKE_BACK_AFTER_S = 0.05

# Workers that die before they are ready, one after another, with none ready
# in between: the workers cannot start at all (a script that starts a run
# without an ``if __name__ == "__main__":`` guard, a broken environment).
_START_FAILURES_TOLERATED = 3


class WorkerStartError(BackendError):
    """Worker processes keep dying before they are ready: the run cannot go on."""


class ProcessBackend(Backend):
    name = "processes"
    library = "poolside"
    label = "Processes"
    description = (
        "One worker process per core: true parallelism for CPU-bound Python, and a hung or "
        "crashing item costs only itself (its worker is killed and replaced). Items and "
        "results are pickled, so it loses to threads when items are tiny and the work is I/O."
    )
    kind = "processes"
    uses_zygote = True
    wins = "CPU-bound Python; a hung or crashing item costs only itself"
    kills_hung_items = True
    caps_worker_memory = True

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float,
                 method: str | None = None, flush_s: float = FLUSH_S,
                 max_memory_per_worker: int | None = None) -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin)
        self._memcap = memory_cap(max_memory_per_worker, self.pids)
        self._requested = method
        self._method = ""  # how workers start; decided in start()
        self._flush_s = flush_s
        self._procs: list[_Proc] = []
        self._closing = False
        self._start_failures = 0
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        # Items per chunk sent and not finished: without a timeout the slot
        # names an item exactly only in a one-item chunk (see _bury).
        self._sizes: dict[int, int] = {}
        self._pids_pending = False  # workers hired whose pid was not read yet (_learn_pids)

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        try:
            self._task_bytes = pickle.dumps(self.task, PICKLE_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                "the task cannot be sent to worker processes: it must be picklable (a function "
                f"defined at the top level of a module, not a lambda or a nested function): {describe_error(exc)}"
            ) from exc
        self._method = self._requested or default_method()
        direct = self._method == "zygote" and _zygote.threads_running() == 1
        # The zygote serves replacements once the dispatcher runs (forking from here
        # is then unsafe).  Without a per-item timeout only a crash needs one, and
        # the forkserver serves that rare case (~0.1 s more, once): a run whose
        # workers are all forked directly below then starts no zygote, one process
        # and ~15 MB of RSS less in a one-shot caller's tree (1 M lazy items: 73 MB
        # with it, where Pool.imap_unordered's tree held 47 MB).
        lazy = direct and self.timeout is None and not _zygote.running()
        self._ctx: Any = None if lazy else worker_context(self._method, self.task)
        self._wake_r: mpc.Connection
        self._wake_r, self._wake_w = mpc.Pipe(duplex=False)
        self._wake_frames = FrameReader(self._wake_r)
        self._poller = Poller()
        procs = _unpark(self._method, self.workers)
        adopted = len(procs)
        if self._method == "zygote" and _zygote.threads_running() == 1:
            # This process runs one thread right now (the dispatcher starts
            # after this): fork the first workers directly, as Pool does, and
            # leave the zygote for replacements once the dispatcher runs.
            # Through the zygote, each start waits for it to be scheduled: on
            # a loaded machine that made a cold sha256 run of 1,000 files take
            # ~15-20 ms in start() alone, against ~2 ms of direct forks.
            fork = mp.get_context("fork")
            procs += [self._launch_with(fork) for _ in range(self.workers - len(procs))]
        procs += [self._launch() for _ in range(self.workers - len(procs))]
        log.debug("%d worker processes (%s): %d adopted from the last run, %d started",
                  self.workers, self._method, adopted, self.workers - adopted)
        self._procs = []
        for index, proc in enumerate(procs):
            self._hire(proc, index)
        if self._memcap is not None:  # after the direct forks: never fork with a thread running
            self._memcap.start()

    def _launch(self) -> _Proc:
        try:
            if self._ctx is not None:
                return self._launch_with(self._ctx)
        except (_zygote.ZygoteUnavailable, OSError):
            if self._method != "zygote":
                raise
        # No zygote (killed, or never started: see start()), and this process
        # runs threads now (the dispatcher at least), so it is never forked
        # from here: the forkserver is safe at any time.
        self._method = start_method()
        self._ctx = worker_context(self._method, self.task)
        return self._launch_with(self._ctx)

    def _launch_with(self, ctx: Any) -> _Proc:
        return _launch_worker(ctx, self._method, self._flush_s)

    def _hire(self, proc: _Proc, index: int) -> None:
        """Make ``proc`` worker ``index`` of this run and send it the task.

        Its pid is not waited for here (see _learn_pids): the task and the
        first chunks go into its pipes while a server may still be forking it,
        so it starts its first item as soon as it exists.
        """
        proc.adopt(index)
        self._procs.append(proc)
        self._pids_pending = True
        try:
            proc.tasks.send_bytes(task_message(index, self.origin, self._task_bytes,
                                               exact=self.timeout is not None))
        except OSError:
            pass  # it died: poll() sees its sentinel

    def _learn_pids(self) -> None:
        """Read the pid of every worker hired since the last poll (waiting for its fork if need be).

        A worker forked by a server (the zygote, the forkserver) reports its
        pid first on its sentinel pipe, then its exit code: the pid is read
        before anything waits on the sentinel, which it would wake otherwise.
        """
        for proc in self._procs:
            log.debug("worker process %d is worker %d", proc.process.pid, proc.index)
        self._pids_pending = False

    def pids(self) -> list[int]:
        """The worker processes of this run alive now (for tests and the window); none once it ended.

        Safe from any thread: a worker the dispatcher is replacing may be closed already.
        """
        pids = []
        for proc in list(self._procs):
            try:
                if proc.process.is_alive():
                    pids.append(proc.process.pid)
            except ValueError:  # "process object is closed": it was just replaced
                pass
        return pids

    def shutdown(self, cancel: bool) -> None:
        with self._wake_lock:  # a wake() from another thread must not meet a closed pipe
            self._closing = True
        if self._memcap is not None:
            self._memcap.stop()
        stopping = []
        for proc in self._procs:
            if cancel:
                kill_worker(proc.process)
            elif proc.ready and not proc.assigned and proc.results is not None:
                _park(proc)  # idle and sound: the next run adopts it
                continue
            else:
                proc.tasks.close()  # EOF: the worker ends itself
            stopping.append(proc)
        parked = len(self._procs) - len(stopping)
        log.debug("run over: %d workers parked, %d %s", parked, len(stopping), "killed" if cancel else "stopped")
        deadline = time.monotonic() + _STOP_GRACE_S
        for proc in stopping:
            proc.process.join(max(0.0, deadline - time.monotonic()))
            if proc.process.is_alive():
                kill_worker(proc.process)
                proc.process.join()
            proc.close()
        self._procs = []  # stopped, or parked for the next run: none is this run's any more
        with self._wake_lock:
            self._wake_r.close()
            self._wake_w.close()

    # -- engine side ----------------------------------------------------------

    def free_slots(self) -> int:
        return sum(1 + PREFETCH_PER_WORKER - len(p.assigned) for p in self._procs)

    def submit(self, chunk: Chunk) -> list[Event]:
        try:
            data = dumps_chunk(chunk)
        except Exception as exc:
            return [Retry(chunk.id, alone=True, error=ErrorInfo(
                "PicklingError", f"the item cannot be sent to a worker process: {describe_error(exc)}"))]
        proc = min(self._procs, key=lambda p: len(p.assigned))
        proc.assigned.append(chunk.id)
        self._sizes[chunk.id] = len(chunk.items)
        try:
            proc.tasks.send_bytes(data)
        except OSError:
            pass  # the worker is dead; poll() sees its sentinel and hands the chunk back
        return []

    def wake(self) -> None:
        with self._wake_lock:
            if self._wake_pending or self._closing:
                return
            self._wake_pending = True
            self._wake_w.send_bytes(b"")

    def poll(self, timeout: float) -> list[Event]:
        if self._pids_pending:
            self._learn_pids()
        wait = self.poll_wait(timeout)
        by_handle: dict[Any, _Proc] = {}
        for proc in self._procs:
            if proc.results is not None:
                by_handle[proc.results] = proc
            by_handle[proc.process.sentinel] = proc
        ready = self._poller.wait([*by_handle, self._wake_r], wait)
        events: list[Event] = []
        dead: list[_Proc] = []
        for handle in ready:
            if handle is self._wake_r:
                with self._wake_lock:
                    self._wake_frames.read()  # every wake-up written so far: they say the same
                    self._wake_pending = False
                continue
            proc = by_handle[handle]
            if handle is proc.results:
                self._drain(proc, events)
            elif proc not in dead:
                dead.append(proc)
        for proc in dead:
            proc.process.join()
            error = died(self._memcap, proc.process.pid, proc.process.exitcode)
            log.warning("worker %d: process %d died: %s", proc.index, proc.process.pid, error.message)
            self._bury(proc, error, events)
        if self.timeout is not None:
            events.extend(self._expire())
        self._steal()
        return events

    def _steal(self) -> None:
        """Ask a worker stuck on a slow item to give back a chunk it has not started."""
        idle = sum(1 for p in self._procs if not p.assigned)
        if not idle:
            return
        now = time.perf_counter()
        for proc in self._procs:
            if idle == 0:
                return
            if len(proc.assigned) < 2 or proc.assigned[-1] in proc.retracting:
                continue
            if proc.slot[SLOT_STATE] != RUNNING or now - proc.slot[SLOT_START] < _TAKE_BACK_AFTER_S:
                continue
            chunk_id = proc.assigned[-1]
            try:
                proc.tasks.send_bytes(retract_message(chunk_id))
            except OSError:
                continue  # it died: poll() will hand its chunks back
            proc.retracting.add(chunk_id)
            idle -= 1

    def hold(self) -> list[Event]:
        """Ask every worker to give back the chunks queued behind the one it runs.

        Each comes back as ``Retracted`` (a ``Retry`` from a later poll), or
        runs: the worker may have started it before the request arrived.  The
        chunk at the head of a worker's queue counts as started: it is the one
        it runs, or is about to.
        """
        for proc in self._procs:
            for chunk_id in list(proc.assigned)[1:]:
                if chunk_id in proc.retracting:
                    continue
                try:
                    proc.tasks.send_bytes(retract_message(chunk_id))
                except OSError:
                    break  # it died: poll() will hand its chunks back
                proc.retracting.add(chunk_id)
        return []

    def held(self) -> bool:
        return not any(proc.retracting for proc in self._procs)

    # -- results, deaths and deadlines -----------------------------------------

    def _drain(self, proc: _Proc, events: list[Event]) -> None:
        """Take every message the worker has written so far (one read: see poolside.backends._pipes)."""
        try:
            messages, eof = proc.frames.read()
        except OSError:
            messages, eof = [], True
        for data in messages:
            try:
                message = pickle.loads(data)
            except Exception as exc:
                # A result that pickled in the worker but cannot be rebuilt
                # here: that item fails, the rest of the batch stands.
                message = repair_done(data, exc)
                log.warning("worker %d: a result could not be unpickled: %s", proc.index, describe_error(exc))
            kind = type(message)
            if kind is Done:
                if message.last and proc.assigned and proc.assigned[0] == message.chunk_id:
                    proc.retracting.discard(proc.assigned.popleft())
                    self._sizes.pop(message.chunk_id, None)
                events.append(message)
            elif kind is Ready:
                proc.ready = True
                self._start_failures = 0
            elif kind is Retracted:
                proc.assigned.remove(message.chunk_id)
                proc.retracting.discard(message.chunk_id)
                self._sizes.pop(message.chunk_id, None)
                events.append(Retry(message.chunk_id, alone=False))
            elif kind is ChunkUnreadable:
                # Some item of the chunk cannot be unpickled here: find it alone.
                proc.assigned.remove(message.chunk_id)
                self._sizes.pop(message.chunk_id, None)
                events.append(Retry(message.chunk_id, alone=True, error=message.error, worker=proc.index))
        if eof:
            _parent_ends.discard(proc.results)
            proc.results.close()
            proc.results = None  # the sentinel tells the rest

    def _bury(self, proc: _Proc, error: ErrorInfo, events: list[Event],
              timed_out: bool = False) -> None:
        """A worker is gone: blame the item it was running, hand back the rest.

        Its last results are read first: an item that finished wins over any
        blame, and only items with no result are run again.
        """
        if proc.results is not None:
            self._drain(proc, events)
        if not proc.ready and not timed_out:
            self._start_failed(proc, error, events)
            return
        slot = proc.slot
        chunk_id = int(slot[SLOT_CHUNK])
        offset = int(slot[SLOT_OFFSET])
        started = slot[SLOT_START]
        running = slot[SLOT_STATE] == RUNNING
        now = time.perf_counter()
        if timed_out and not (running and now - started >= (self.timeout or 0.0)):
            running = False  # it moved on just before the kill: nobody to blame
        if proc.assigned:
            head = proc.assigned.popleft()
            # Without a timeout the worker keeps its slot only roughly (the
            # offset is where it was up to 1 ms ago): in a chunk of several
            # items the culprit is found by running them one by one, each in a
            # chunk of its own, where the slot is exact again.
            exact = self.timeout is not None or self._sizes.get(head) == 1
            if running and chunk_id == head and not exact and not timed_out:
                events.append(Retry(head, alone=True, error=error, worker=proc.index))
            elif running and chunk_id == head:
                status = Status.TIMED_OUT if timed_out else Status.FAILED
                events.append(Lost(head, offset, status, error, proc.index,
                                   started - self.origin, now - started, proc.process.pid))
                events.append(Retry(head, alone=False))
            elif timed_out:
                events.append(Retry(head, alone=False))
            else:
                # It died between items (unpickling, sending): run them one by
                # one, and the one that kills a worker alone is the culprit.
                events.append(Retry(head, alone=True, error=error, worker=proc.index))
            events.extend(Retry(cid, alone=False) for cid in proc.assigned)
            for cid in (head, *proc.assigned):
                self._sizes.pop(cid, None)
        self._replace(proc)

    def _start_failed(self, proc: _Proc, error: ErrorInfo, events: list[Event]) -> None:
        """A worker died before it was ready: its chunks are innocent; maybe nothing can start."""
        self._start_failures += 1
        events.extend(Retry(cid, alone=False) for cid in proc.assigned)
        for cid in proc.assigned:
            self._sizes.pop(cid, None)
        proc.assigned.clear()
        log.warning("worker process %d died before it was ready (%s)", proc.process.pid, error.message)
        if self._start_failures >= _START_FAILURES_TOLERATED:
            raise WorkerStartError(
                f"worker processes die as they start ({error.message}); if this runs from a "
                "script, start the run under `if __name__ == \"__main__\":` so that worker "
                "processes can import the script without starting a run of their own"
            )
        self._replace(proc)

    def _replace(self, proc: _Proc) -> None:
        pid = proc.process.pid
        proc.close()
        self._procs.remove(proc)
        if not self._closing:
            self._hire(self._launch(), proc.index)
            log.info("worker %d: process %d replaced by %d", proc.index, pid, self._procs[-1].process.pid)

    def running_since(self) -> list[float]:
        return [p.slot[SLOT_START] for p in self._procs if p.slot[SLOT_STATE] == RUNNING]

    def _expire(self) -> list[Event]:
        assert self.timeout is not None
        events: list[Event] = []
        now = time.perf_counter()
        for proc in list(self._procs):
            if proc.slot[SLOT_STATE] != RUNNING or now - proc.slot[SLOT_START] < self.timeout:
                continue
            kill_worker(proc.process)
            proc.process.join()
            log.info("worker %d: process %d killed, its item ran past the %g s timeout",
                     proc.index, proc.process.pid, self.timeout)
            message = (f"the item ran longer than its {self.timeout:g} s timeout; "
                       "its worker process was killed and replaced")
            self._bury(proc, ErrorInfo("Timeout", message), events, timed_out=True)
        return events
