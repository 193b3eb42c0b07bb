"""What crosses the pipe between a run host and its client: small plain records.

    client                                   host
      StartRun(run_id, spec, ItemFrames(n), task) ──► engine.run(...)
      n frames of items (5,000 a frame)   ──►
      CancelRun(run_id)                   ──►  job.cancel()
      PauseRun(run_id, paused)            ──►  job.pause() / job.resume()
      StopRun(run_id)                     ──►  job.stop_after_current()
      Shutdown()                          ──►  parked workers end, the host exits
                                          ◄──  Ready(pid, helpers)
                                          ◄──  Started(run_id, workers, origin, history_id, pids)
                                          ◄──  Outcomes(run_id, [Outcome, ...])   (many)
                                          ◄──  Finished(run_id, Summary, history_error)
                                          ◄──  RunFailed(run_id, error)          (could not start)
                                          ◄──  Held(run_id)    (a pause or stop is in effect)

Every message is one pickle (``send_bytes``/``recv_bytes`` framing of
``multiprocessing.connection``).  Outcome batches are capped in count and in
bytes so that decoding one message holds the window process's GIL for a
millisecond or two at most: the reader thread that decodes them shares that
GIL with the event loop.
"""

from __future__ import annotations

import io
import itertools
import pickle
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..records import Outcome, Summary
from ..spec import JobSpec

PICKLE_PROTOCOL = 5

# Outcomes per message: ~1 µs each to decode, so ~1 ms of GIL in the window's
# process per message at most (one pickle.loads is one uninterruptible C
# call): the event loop never waits long on the reader thread.
MAX_OUTCOMES_PER_MESSAGE = 1_000
# A batch that pickles larger than this (big values) is split in halves: a
# message the window reads in one go stays small whatever the task returns.
MAX_MESSAGE_BYTES = 1 << 20


# Items per frame of a StartRun's items: pickling is one C call that holds the
# GIL, and 200,000 file paths take 40-80 ms to pickle in one go; 5,000 take
# 1-2 ms, so the client's writer thread never holds the event loop up longer.
ITEMS_PER_FRAME = 5_000


# -- client -> host -----------------------------------------------------------

class StartRun(NamedTuple):
    """Run ``spec`` over ``items`` (or the spec's own walk when ``items`` is ``None``).

    ``task`` replaces the spec's plugin when the caller has a picklable
    callable rather than a plugin reference (the Python API's ``run(task,
    items)`` form, benchmarks); ``bound`` picks the default worker count then.
    ``marks`` is the path of the file in which the host marks each item as it
    starts and ends (see :mod:`poolside.host.marks`); empty: no marks.
    """

    run_id: int
    spec: JobSpec
    items: Sequence[Any] | None
    task: Callable[[Any], Any] | None = None
    bound: str = "mixed"
    marks: str = ""


class ItemFrames(NamedTuple):
    """In a StartRun's ``items``: they follow in ``frames`` frames, each a pickled list."""

    frames: int


def item_frames(items: Sequence[Any]) -> list[bytes]:
    return [dumps(list(items[i:i + ITEMS_PER_FRAME])) for i in range(0, len(items), ITEMS_PER_FRAME)]


class CancelRun(NamedTuple):
    run_id: int


class PauseRun(NamedTuple):
    """Pause the run (``paused``: no new item starts, running ones finish) or resume it."""

    run_id: int
    paused: bool


class StopRun(NamedTuple):
    """Stop the run after its current items: nothing running is thrown away, the rest ends cancelled."""

    run_id: int


class Shutdown(NamedTuple):
    pass


# -- host -> client -----------------------------------------------------------

class Ready(NamedTuple):
    """The host is up (sent once, after its imports and warm-up).

    ``helpers``: its processes that start workers and run no item (its zygote):
    the window's CPU views count them as Poolside's, not as workers.
    """

    pid: int
    helpers: tuple[int, ...] = ()


class Started(NamedTuple):
    """The engine is running this run with ``workers`` workers.

    ``origin`` is the engine's start (``Job.started``, ``time.perf_counter``):
    outcomes' times count from it.  ``perf_counter`` reads the machine's
    monotonic clock, the same in every process, so the window can put its own
    samples on the items' clock.  ``history_id`` is the run's row in the
    history database (``None`` when the history is off or cannot be opened):
    the window stores the run's CPU and memory series under it.  ``pids``: the
    run's worker processes as its backend names them (``None``: it does not
    say; ``()``: the items run in the host's own threads), so that the window
    tells them from workers parked by an earlier run (see ``poolside.proctree``).
    """

    run_id: int
    workers: int
    origin: float
    history_id: int | None = None
    pids: tuple[int, ...] | None = None


class Outcomes(NamedTuple):
    run_id: int
    outcomes: list[Outcome]

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as columns, not Outcome by Outcome: a NamedTuple pickles through
        # copyreg and unpickles through its Python __new__, one call per outcome.
        # Measured on 1,000 outcomes with dict values: 720 -> 180 ns an outcome to
        # pickle in the host, 470 -> 350 to unpickle in the window's reader.
        return (_outcomes_from_columns, (self.run_id, list(zip(*self.outcomes))))


def _outcomes_from_columns(run_id: int, columns: list[tuple[Any, ...]]) -> Outcomes:
    return Outcomes(run_id, list(map(tuple.__new__, itertools.repeat(Outcome), zip(*columns))))


class Finished(NamedTuple):
    """The last message of a run: every outcome was sent before it.

    ``history_error``: why the run is not (all) in the history, in words for
    the user (``RunRecorder.error``); ``None`` when it is recorded or the
    history is off.  The run itself is not affected: the window says it.
    """

    run_id: int
    summary: Summary
    history_error: str | None = None


class Held(NamedTuple):
    """A pause or a stop after the current items is in effect: no new item starts from here on,
    only those that were running may still finish (``Job.wait_held``)."""

    run_id: int


class RunFailed(NamedTuple):
    """The run could not start (a bad spec, an unpicklable task): nothing else follows."""

    run_id: int
    error: BaseException


def dumps(message: Any) -> bytes:
    return pickle.dumps(message, PICKLE_PROTOCOL)


def loads(data: bytes) -> Any:
    return pickle.loads(data)


class Unreadable:
    """Stands in for an object whose class cannot be imported where the message is read."""

    missing = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<unreadable {self.missing}>"


class _Lenient(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except Exception:  # a class not importable here: a stand-in that names it, and the outcome says so
            return type(name, (Unreadable,), {"missing": f"{module}.{name}"})


def loads_lenient(data: bytes) -> Any:
    """``loads``, with objects of classes this process cannot import as :class:`Unreadable`."""
    return _Lenient(io.BytesIO(data)).load()


def unreadable_in(value: Any) -> Unreadable | None:
    """The first :class:`Unreadable` in ``value`` or one level inside it (the shapes results take)."""
    if isinstance(value, Unreadable):
        return value
    inner = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((v for v in inner if isinstance(v, Unreadable)), None)


def portable_error(exc: BaseException) -> BaseException:
    """``exc`` if it survives a round trip through pickle, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc, PICKLE_PROTOCOL))
        return exc
    except Exception:  # whatever fails its round trip: the stand-in keeps its type and message
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# -- studies: window <-> study host ---------------------------------------------
#
#   client                                    study host
#     StartStudy(study_id, plan)        ──►   prepare_plan(plan).run() on a thread
#     CancelStudy(study_id)             ──►   Study.cancel()
#     Shutdown()                        ──►   the study cancelled, workers ended, the host exits
#                                       ◄──   Ready(pid, helpers)
#                                       ◄──   StudyProgress(study_id, Progress)     before each run
#                                       ◄──   StudyRound(study_id, Round)           after each round
#                                       ◄──   StudyPart(study_id, ConfigResult)     x n, then
#                                       ◄──   StudyFinished(study_id, record without configs, n, error,
#                                                           history_error)
#
# The record goes one configuration a message: unpickling a 48-configuration
# record in one go held the reader's GIL ~40 ms, time the event loop waits.

class StartStudy(NamedTuple):
    study_id: int
    plan: Any  #: a poolside.study.StudyPlan


class CancelStudy(NamedTuple):
    study_id: int


class StudyProgress(NamedTuple):
    study_id: int
    progress: Any  #: a poolside.study.Progress


class StudyRound(NamedTuple):
    study_id: int
    round: Any  #: a poolside.study.Round (snapshots of the configurations being repeated)


class StudyPart(NamedTuple):
    """One configuration of the finished record; ``StudyFinished.parts`` of them come first."""

    study_id: int
    config: Any  #: a poolside.study.ConfigResult


class StudyFinished(NamedTuple):
    """The study's last message.

    ``record``: the StudyResult without its configurations (they came as
    ``parts`` StudyPart messages), or ``None`` if the study could not run
    (``error`` says why).  ``history_error``: the study ran but could not be
    kept in the history (why), ``None`` when it was kept or was not to be.
    """

    study_id: int
    record: Any
    parts: int = 0
    error: str | None = None
    history_error: str | None = None


def study_parts(study_id: int, record: Any, error: str | None = None,
                history_error: str | None = None) -> list[Any]:
    """A finished study's messages: each configuration, then the rest of the record."""
    if record is None:
        return [StudyFinished(study_id, None, 0, error, history_error)]
    import dataclasses

    parts: list[Any] = [StudyPart(study_id, c) for c in record.configs]
    return [*parts, StudyFinished(study_id, dataclasses.replace(record, configs=[]), len(parts), error,
                                  history_error)]


# -- observe host (poolside.observe.host): client -> host -----------------------

class StartObserve(NamedTuple):
    """Observe ``command`` (launched by the host, in a session of its own) or the running ``pid``."""

    command: tuple[str, ...] | None
    pid: int | None
    interval_s: float


class StopObserve(NamedTuple):
    """End the observation now; the observed program goes on."""


# -- observe host -> client ------------------------------------------------------

class ObserveUpdate(NamedTuple):
    """The live view, at most a few times a second: ``usage.Monitor``'s ``recent()`` and ``series()``
    dicts, the main process's busy threads at its sample times, and a line on the tree so far."""

    recent: dict
    series: dict
    busy: Any
    line: str


class ObserveFinished(NamedTuple):
    """The observation's end: its record (``poolside observe --json``'s shape), the last series, where
    the history keeps it; ``error``: why it could not start or went on no longer (record None then)."""

    record: dict | None
    series: dict | None
    busy: Any
    history_id: int | None
    history_error: str | None
    error: str | None
    stopped: bool
