"""The engine: read items lazily, run them in chunks, stream every outcome once.

Data flow::

    items ──► reader thread ──batches──► dispatcher: chunks ──► backend.submit()
      (read lazily, at most a window ahead;                      │ workers run them
       may block: only the reader waits)                         │
    consumer ◄── outcome batches ◄── (reorder, if ordered) ◄─────┴─ backend.poll():
      (iteration or on_outcomes)                                   Done / Lost / Retry

Two threads per job.  The *reader* (``poolside.engine.reader``) is the only caller of
the input iterator: an input may block for as long as it likes (a walk on a
slow disk, a generator waiting on the network) and nothing can interrupt it,
so it blocks only that thread.  It reads a chunk's worth of items at a time
and wakes the dispatcher when a batch is ready.  (An input already in memory,
a list, a tuple or a range, cannot block: the same reader reads it inline, on
the dispatcher's thread, and spares the run a thread.)  The *dispatcher* does the
rest, and never waits on the input: it makes chunks of the reader's batches
(through the job's ``Intake``, ``poolside.engine.intake``, which also lists the rest
of the input at a cancel), and is the only writer of the bookkeeping, so none of it needs a lock; results,
per-item timeouts and ``cancel()`` keep flowing however slow the input is.
The caller's thread only takes outcome batches from a queue (or gets them
through ``on_outcomes``) and may ``cancel()`` at any time.

Bookkeeping is per chunk, in the job's ``Ledger`` (``poolside.engine.ledger``): a
flag per item checked against every report from a backend, so an item gets
exactly one outcome whatever arrives late or twice, and at the end every item
still pending is ``cancelled`` (or ``failed``, should the engine itself
break): the counts always add up.

Memory stays flat for any input length: the reader stops reading input
while more than a window of items (a few chunks per worker) are read but not
yet taken by the consumer.

At a cancel, every item already read ends at once (those in the reader's hands
too).  The rest of a *finite* input is still read and ``cancelled`` item by
item as long as the reader keeps making progress; an input that is stuck is
left, and the summary says how many items it did not read (``not_read``).

Run controls, from any thread: ``pause()`` holds new work back in the
dispatcher (no chunk is handed to the backend, and a backend that queues
chunks ahead of its workers gives back those not started, ``Backend.hold``)
until ``resume()``; ``stop_after_current()`` holds the same way, waits for
what is running, and ends every item not started ``cancelled`` with
``STOPPED_ERROR``.  "Running" is a chunk a worker has started: it runs to its
end (with ``chunk_size="auto"`` a chunk is about 25 ms of work, one item when
items are slower than that).  Backends that cannot take a chunk back once it
is submitted (per-item, the classic pools' ``submit``, Dask) run what they
were given; those that take the whole input (``map``, ``imap``, joblib) run
every item the engine had fed to the library, which for ``map`` is all of the
input read so far.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from typing import Any

from ..backends import runs_in_caller
from ..backends.base import Backend, BackendError
from ..backends.protocol import Chunk
from ..log import get_logger
from ..records import CANCELLED_ERROR, STOPPED_ERROR, ErrorInfo, Outcome, Status, Summary, describe_error
from ..system import usable_cores
from .arguments import checked
from .batches import OutcomeBatch, OutcomeList
from .chunking import Chunker
from .controls import RunControls
from .insights import InsightsRecorder
from .intake import Intake
from .ledger import Ledger
from .libthreads import LibraryThreads
from .sampler import TreeSampler

# How long the dispatcher waits for events before it looks at its flags again.
# It is woken at once for results, cancel and a consumer that frees the
# window; this only bounds the delay of anything that has no wake-up.
_POLL_S = 0.1
# (The window, the reader's batches and the cancel's listing: poolside.engine.intake.)
# For a backend that takes the whole input (``Pool.map``, ``joblib``), the
# engine's chunks are only its bookkeeping: blocks this big keep that to a few
# bytes an item, and the engine reads this many items between two polls.
_INPUT_BLOCK = 1_000

# Lifecycle only (start, end, retries): never a line per item.
log = get_logger(__name__)


def _handle_gc_paused(ledger: Ledger, events: list) -> None:
    """``ledger.handle(events)`` with the cyclic garbage collector held off.

    Each outcome is a new container object, and CPython runs a young-generation
    collection every 700 of those: building 10,000 outcomes triggers a dozen
    collections that walk the very batch being built, and costs more than the
    building itself (measured: 445 ns an outcome with the collector, 197 ns
    without).  Pausing it for one batch (a few milliseconds) lets it run once
    afterwards instead.  A collector that was already off stays off.  A plain
    function rather than a ``contextmanager``: this runs once per poll, and a
    generator-based context costs ~1.5 us each time.
    """
    if not gc.isenabled():
        ledger.handle(events)
        return
    gc.disable()
    try:
        ledger.handle(events)
    finally:
        gc.enable()


class InputError(RuntimeError):
    """The input iterable raised; the items read before it were run normally."""


_live_jobs: weakref.WeakSet[Job] = weakref.WeakSet()


@atexit.register
def _cancel_live_jobs() -> None:
    # An interpreter that exits mid-run must not leave worker processes behind.
    for job in list(_live_jobs):
        job.cancel()
        job.wait(5.0)


class Job:
    """A running batch.  Iterate it for outcomes, or pass ``on_outcomes`` to ``run``.

    Safe to ``cancel()`` and to read ``summary`` from any thread.
    """

    def __init__(
        self,
        backend: Backend,
        items: Iterable[Any],
        *,
        ordered: bool,
        chunker: Chunker,
        on_outcomes: Callable[[list[Outcome]], None] | None,
        on_finish: Callable[[Summary], None] | None,
        started: float,
        finite: bool | None = None,
    ) -> None:
        self._backend = backend
        self._chunker = chunker
        self._on_outcomes = on_outcomes
        self._on_finish = on_finish
        self._started = started
        self._summary = Summary(backend=backend.name, workers=backend.workers)
        self._sampler = TreeSampler()
        self._insights = InsightsRecorder(backend.workers, usable_cores(),
                                          runs_in_caller(backend), self._sampler)
        self._counts = self._summary.counts

        self._ledger = Ledger(self._summary, self._insights, chunker, ordered=ordered,
                              callbacks=on_outcomes is not None, started=started,
                              deliver=self._deliver)
        self._consumed = 0  # outcomes taken by the consumer
        self._intake = Intake(items, backend, chunker, self._ledger, self._insights, self._counts, finite=finite)
        self._told_end = False
        self._consumer_error: BaseException | None = None  # the first exception of on_outcomes
        self._consumer_errors = 0

        self._queue: queue.SimpleQueue[list[Outcome] | None] = queue.SimpleQueue()
        self._cancel_requested = False
        self._controls = RunControls(backend.wake)
        self._finished = threading.Event()
        self._iterating = False
        self._thread = threading.Thread(target=self._dispatch, name="poolside-engine", daemon=True)
        _live_jobs.add(self)
        self._intake.reader.start()
        self._thread.start()

    # -- the caller's side ------------------------------------------------------

    def __iter__(self) -> Iterator[Outcome]:
        if self._on_outcomes is not None:
            raise TypeError("this job streams to on_outcomes; it cannot also be iterated")
        if self._iterating:
            raise RuntimeError("a job can be iterated only once")
        self._iterating = True
        return self._stream()

    def batches(self) -> Iterator[OutcomeBatch | OutcomeList]:
        """The outcomes in batches as they come, for a consumer that wants throughput.

        Each batch is a sequence of the run's outcomes (iterate it for
        :class:`Outcome` objects) that also offers them as columns:
        ``values``, ``statuses``, ``indices``, ``items``, ``errors``,
        ``elapsed``, ``starts``, ``workers`` and ``count(status)`` (see
        ``poolside.engine.batches``).  Reading the columns builds no Outcome, which
        is most of what a tiny item costs the caller.  Like iterating the job,
        it can be done once, and leaving early cancels the rest.
        """
        if self._on_outcomes is not None:
            raise TypeError("this job streams to on_outcomes; it cannot also be iterated")
        if self._iterating:
            raise RuntimeError("a job can be iterated only once")
        self._iterating = True
        return (part if isinstance(part, OutcomeBatch) else OutcomeList(part) for part in self._parts())

    def _stream(self) -> Iterator[Outcome]:
        # Outcomes are made per item by C code (chain -> map -> zip) as the
        # consumer takes them; this generator runs once per batch, not per item.
        return itertools.chain.from_iterable(self._parts())

    def _parts(self) -> Iterator[Sequence[Outcome] | OutcomeBatch]:
        try:
            while True:
                batch = self._queue.get()
                if batch is None:
                    break
                # Each part counts as taken when the consumer starts on it, not
                # the whole queued batch at once: the reader reads ahead of what
                # the consumer really holds by no more than the window.
                for part in _parts_of(batch):
                    self._took(len(part))
                    yield part
        finally:
            # Leaving the loop early (break, an exception) cancels the rest,
            # as closing Executor.map's iterator does.
            if not self._finished.is_set():
                self.cancel()
        if self._intake.error is not None:
            error = self._intake.error
            raise InputError(f"reading the input failed: {_error_line(error)}") from error

    def cancel(self) -> None:
        """Stop: pending items end ``cancelled``, running processes are killed.  Returns at once."""
        if self._finished.is_set():
            return  # nothing left to stop; ``cancelled`` stays what it was
        self._cancel_requested = True
        self._backend.wake()

    def pause(self) -> None:
        """Start no new item until :meth:`resume`; the items running now finish.

        Returns at once.  A chunk a worker has started runs to its end (see
        the module docstring for what "running" means per backend).  A paused
        job still answers ``cancel()`` and ``stop_after_current()``; ``wait()``
        on it blocks until it is resumed and ends.  Paused time is part of
        ``summary.wall_s`` and counted in ``summary.paused_s``; the insights
        leave it out (see ``Summary.insights``).
        """
        if self._controls.pause():
            log.info("run paused")

    def resume(self) -> None:
        """Go on from where :meth:`pause` stopped: the held items start first."""
        if self._controls.resume():
            log.info("run resumed")

    @property
    def paused(self) -> bool:
        """Whether the job is paused now (never once it is done)."""
        return self._controls.paused

    def wait_held(self, timeout: float | None = None) -> bool:
        """Block until a pause or a stop is in effect; False if ``timeout`` passed first.

        In effect means: no chunk goes to the backend any more, and those it
        could give back have come back.  From then on only what was running
        (see the module docstring) may still start or finish.  A job that is
        done counts as held.
        """
        return self._controls.wait_held(timeout)

    def stop_after_current(self) -> None:
        """End the run once the items running now have finished; returns at once.

        Like :meth:`cancel`, except that nothing running is thrown away: the
        running items end with their real outcome, every item not started ends
        ``cancelled`` with ``STOPPED_ERROR`` (those not read yet of a finite
        input too, as at a cancel), and the workers stop normally.  A paused
        job stops without resuming.  A ``cancel()`` afterwards still cancels.
        """
        if self._finished.is_set():
            return
        self._controls.stop()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop_after_current` was called."""
        return self._controls.stop_requested

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; ``False`` if ``timeout`` passed first.

        Outcomes nobody iterates are taken and dropped here, so that waiting
        on a job without reading it cannot stall it on a full window.
        """
        if self._on_outcomes is None and not self._iterating:
            self._iterating = True
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._iterating = False
                    return False
                try:
                    batch = self._queue.get(timeout=left)
                except queue.Empty:
                    self._iterating = False
                    return False
                if batch is None:
                    break
                self._took(_count(batch))
        return self._finished.wait(timeout)

    def _took(self, n: int) -> None:
        """The consumer took ``n`` outcomes: the reader may read that much further."""
        self._consumed += n
        self._intake.allow(self._consumed)

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel_requested

    @property
    def started(self) -> float:
        """When the job started, on the ``time.perf_counter`` clock: outcomes' ``started_s`` count from here."""
        return self._started

    @property
    def summary(self) -> Summary:
        """Counts so far (final once ``done``), wall and CPU time."""
        s = self._summary
        snapshot = Summary(
            backend=s.backend, workers=s.workers, counts=dict(self._counts), cpu_s=s.cpu_s,
            done=s.done, input_error=s.input_error, not_read=s.not_read, insights=s.insights,
            wall_s=s.wall_s if s.done else time.perf_counter() - self._started,
            paused_s=s.paused_s if s.done else self._controls.paused_s(),
        )
        return snapshot

    @property
    def backend(self) -> Backend:
        return self._backend

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._finished.is_set():
            self.cancel()
        self.wait()

    # -- the dispatcher thread ---------------------------------------------------

    def _dispatch(self) -> None:
        # ``_finished`` is set whatever happens below: a caller blocked in
        # ``wait()`` or iterating the job must never wait for a thread that died.
        try:
            self._run_to_end()
        except BaseException as exc:
            # A bug in the finishing itself (the loop's own failures are handled
            # in _run_to_end): said once, and the counts still made to add up.
            log.error("the engine failed while finishing the run: %s", _error_line(exc), exc_info=exc)
            try:
                self._settle_rest(Status.FAILED, ErrorInfo(
                    "EngineError", f"the engine failed: {_error_line(exc)}"))
            except BaseException as again:
                log.error("ending the items left failed too; the counts may not add up: %s",
                          _error_line(again), exc_info=again)
            self._summary.wall_s = time.perf_counter() - self._started
            self._summary.done = True
        finally:
            self._controls.end()  # a pause ends with the run; a wait_held() returns
            self._finished.set()
            _live_jobs.discard(self)
            if self._on_outcomes is None:
                self._queue.put(None)

    def _run_to_end(self) -> None:
        failure: BaseException | None = None
        try:
            self._loop()
        except BaseException as exc:
            failure = exc
        self._sampler.end()  # memory as the work ends, before the workers go
        try:
            self._backend.shutdown(cancel=failure is not None or self._stopping)
        except BaseException as exc:
            failure = failure or exc
        if isinstance(failure, BackendError):
            self._settle_rest(Status.CANCELLED if failure.cancels else Status.FAILED,
                              ErrorInfo(type(failure).__name__, describe_error(failure)))
        elif failure is not None:
            self._settle_rest(Status.FAILED, ErrorInfo("EngineError", f"the engine failed: {_error_line(failure)}"))
        elif self._consumer_error is not None:
            self._settle_rest(Status.FAILED, ErrorInfo("ConsumerError", self.error or ""))
        elif self._cancel_requested:
            self._settle_rest(Status.CANCELLED, CANCELLED_ERROR)
        elif self._controls.stop_requested:
            self._settle_rest(Status.CANCELLED, STOPPED_ERROR)
        self._intake.reader.close()  # a reader stuck in the input stays so: a daemon, it reads no more
        self._summary.wall_s = time.perf_counter() - self._started
        self._summary.paused_s = self._controls.end()  # ended while paused (a cancel, a stop): the pause ends
        try:
            self._insights.library_chunks = self._backend.library_chunk_sizes()
            # Over the active time: a pause is no idle time of the workers'.
            active_s = max(0.0, self._summary.wall_s - self._summary.paused_s)
            self._summary.insights = self._insights.finish(active_s, self._summary.total)
        except Exception as exc:  # the run itself is over and counted: it ends without its insights
            log.error("the run's insights could not be made: %s", _error_line(exc), exc_info=exc)
        self._summary.done = True
        if self._intake.error is not None:
            self._summary.input_error = _error_line(self._intake.error)
        self._summary.not_read = self._intake.not_read()
        if failure is not None:
            log.error("run failed: %s", _error_line(failure), exc_info=failure)
        if self._consumer_errors > 1:
            log.error("the outcomes' consumer raised %d more times after the first", self._consumer_errors - 1)
        if log.isEnabledFor(logging.INFO):  # the summary line is built only when someone reads it
            how = (" (cancelled)" if self._cancel_requested
                   else " (stopped after its current items)" if self._controls.stop_requested else "")
            log.info("run ended%s: %s", how, self._summary.line())
        # on_finish comes after the last outcome and before ``done``: a
        # caller that waits on the job knows on_finish has run.
        if self._on_finish is not None:
            try:
                self._on_finish(self.summary)
            except Exception as exc:  # the run is over and counted; the caller's callback failed
                log.error("on_finish raised: %s", _error_line(exc), exc_info=exc)

    @property
    def _stopping(self) -> bool:
        """A cancel, or a consumer that failed: the loop stops taking work."""
        return self._cancel_requested or self._consumer_error is not None

    @property
    def error(self) -> str | None:
        """Why the run failed as a whole, if it did: the ``on_outcomes`` callback raised.

        The items it had not been given yet end ``failed`` with this error.
        """
        if self._consumer_error is None:
            return None
        return f"the outcomes' consumer failed: {_error_line(self._consumer_error)}"

    def _hold(self) -> bool:
        """Follow pause, resume and stop; True when the loop is to end (stopped, nothing running)."""
        events = self._controls.follow(self._backend)
        if events:
            self._ledger.handle(events)
        if not self._controls.stop_requested:
            return False
        if self._backend.takes_input and not self._told_end:
            # The library holds what it was fed and sees no end until told:
            # told now, it runs what it has and ends.
            self._told_end = True
            self._ledger.handle(self._backend.end_of_input())
        ledger = self._ledger
        return len(ledger.tracked) == len(ledger.retry)  # every chunk left waits in the engine

    def _loop(self) -> None:
        backend, intake = self._backend, self._intake
        while not self._stopping:
            if self._hold():
                return
            self._fill()
            if backend.takes_input and intake.done and not self._told_end:
                self._told_end = True
                self._ledger.handle(backend.end_of_input())
            if intake.done and not self._ledger.tracked:
                return
            # A backend that takes the whole input is read on without a pause
            # (while the reader has batches ready; it wakes the poll for more).
            reading = backend.takes_input and not intake.done and intake.reader.ready and not self._controls.holding
            events = backend.poll(0.0 if reading else _POLL_S)
            self._sampler.tick()
            if events:
                _handle_gc_paused(self._ledger, events)

    def _fill(self) -> None:
        """Hand the backend as many chunks as it wants and the reader has ready."""
        backend, intake = self._backend, self._intake
        retry = self._ledger.retry
        intake.allow(self._consumed)  # the window grows with the chunks
        while not self._controls.holding and backend.free_slots() > 0 and not self._stopping:
            chunk: Chunk | None
            if retry:
                chunk = retry.popleft()
            elif intake.done:
                return
            else:
                chunk = intake.next_chunk()
                if chunk is None:
                    return
            events = backend.submit(chunk)
            if events:
                self._ledger.handle(events)

    def _deliver(self, out: list[Outcome]) -> None:
        """The ledger's outcomes, in order if ordered, to the callback or the consumer's queue."""
        if self._on_outcomes is not None:
            self._took(len(out))
            try:
                self._on_outcomes(out)
            except BaseException as exc:
                self._consumer_failed(exc)
        else:
            self._queue.put(out)

    def _consumer_failed(self, exc: BaseException) -> None:
        """``on_outcomes`` raised: the run stops, and fails (said once, in the log and ``error``).

        The callback still gets the outcomes that follow (the items it was not
        given end ``failed``): a consumer that failed once may still record them.
        """
        self._consumer_errors += 1
        if self._consumer_error is None:
            self._consumer_error = exc
            # No wake-up needed: the consumer is called on the dispatcher's
            # thread, which looks at _stopping before it takes more work.
            log.error("the outcomes' consumer raised; the run stops: %s", _error_line(exc), exc_info=exc)

    def _settle_rest(self, status: Status, error: ErrorInfo) -> None:
        """End every item that has no outcome yet: the counts must add up."""
        self._ledger.settle_rest(status, error)
        self._intake.settle_rest(status, error)


def _error_line(exc: BaseException) -> str:
    """``"OSError: the disk went away"``; never raises, whatever the exception's ``__str__`` does."""
    return f"{type(exc).__name__}: {describe_error(exc)}"


def _parts_of(batch: list) -> Iterator[Sequence[Outcome] | OutcomeBatch]:
    """A queued batch as its OutcomeBatches and lists of the Outcomes between them."""
    run: list[Outcome] = []
    for part in batch:
        if type(part) is OutcomeBatch:
            if run:
                yield run
                run = []
            yield part
        else:
            run.append(part)
    if run:
        yield run


def _count(batch: list) -> int:
    """Outcomes in a queued batch: Outcomes, and OutcomeBatches of many."""
    return sum(len(part) if type(part) is OutcomeBatch else 1 for part in batch)


def _stop_quietly(pool: Backend) -> None:
    try:
        pool.shutdown(cancel=True)
    except Exception as e:  # the run already failed: that failure is the one the caller raises and shows
        log.warning("stopping the %s pool after a failed start also failed: %s", type(pool).__name__, e)


def run(
    task: Callable[[Any], Any],
    items: Iterable[Any],
    backend: str = "processes",
    workers: int | None = None,
    timeout: float | None = None,
    ordered: bool = False,
    chunk_size: int | str = "auto",
    *,
    on_outcomes: Callable[[list[Outcome]], None] | None = None,
    on_finish: Callable[[Summary], None] | None = None,
    bound: str = "mixed",
    backend_options: Mapping[str, Any] | None = None,
    finite: bool | None = None,
    method: str | None = None,
    library_threads: int | None = None,
) -> Job:
    """Run ``task`` over ``items`` on ``backend`` and return the running :class:`Job`.

    ``items`` is read lazily.  Outcomes stream in completion order, or in
    input order with ``ordered=True``.  ``timeout`` is per item, in seconds:
    on processes a hung item's worker is killed; on threads the item is
    reported ``timed_out`` at its deadline but keeps running in the background
    (a thread cannot be stopped).  ``on_outcomes`` receives batches of
    outcomes on the engine's thread instead of queueing them for iteration;
    ``on_finish`` receives the final :class:`Summary` there too.  ``bound``
    (``cpu``, ``io`` or ``mixed``) picks the default worker count;
    ``backend_options`` go to the backend (say, a Dask scheduler ``address``).
    ``method`` is how a classic pool is called (``map``, ``imap``,
    ``imap_unordered``, ``submit``; see ``poolside.backends.classic``), the
    same as ``backend_options={"method": ...}``.  ``library_threads`` caps the
    task's libraries' own thread pools (BLAS, OpenMP) while each item runs, on
    the backends that run one item at a time per process (see ``libthreads``).

    On cancel, every item of a *finite* input still gets its ``cancelled``
    outcome, including those not read yet, so the counts add up to the input;
    ``finite`` defaults to whether ``items`` has a length.  Pass
    ``finite=True`` for a generator that ends (a folder walk), ``False`` to
    stop reading at once.
    """
    backend_cls, options, workers, timeout = checked(task, items, backend, workers, timeout, bound,
                                                     backend_options, method, library_threads)
    if library_threads is not None:
        task = LibraryThreads(task, library_threads)
    started = time.perf_counter()
    chunker = Chunker(chunk_size, workers)  # checks chunk_size before any worker starts
    pool = backend_cls(task, workers, timeout=timeout, origin=started, **options)
    pool.chunk_size = chunk_size
    chunker = Chunker(_INPUT_BLOCK if pool.takes_input else chunk_size, pool.workers)
    try:
        pool.start()
    except BaseException:
        _stop_quietly(pool)  # workers started before the failure must not linger
        raise
    log.info("run started: %s x%d, timeout %s, chunk size %s, %s items", backend, pool.workers,
             "none" if timeout is None else f"{timeout:g} s", chunk_size,
             len(items) if isinstance(items, Sized) else "unknown")
    return Job(pool, items, ordered=ordered, chunker=chunker, on_outcomes=on_outcomes,
               on_finish=on_finish, started=started, finite=finite)
