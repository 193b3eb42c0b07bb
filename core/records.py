"""Plain records that the engine hands to its callers.

An :class:`Outcome` is the one and only result an input item ever gets.  It is
built in the parent process from the compact batches workers send back (see
``poolside.backends._worker``); nothing here needs to cross a process boundary
except :class:`ErrorInfo`, which workers build when a task raises.

Outcomes are tuples (``typing.NamedTuple``) on purpose: the engine creates up to
a few million of them a second, and a tuple is the cheapest record Python has
to build, compare and pickle.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple


class Status(str, enum.Enum):
    """How an item ended.  A ``str`` so that ``status == "ok"`` just works."""

    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    def __str__(self) -> str:  # "ok", not "Status.OK", in f-strings and CSV
        return self.value

    @property
    def label(self) -> str:
        """The word people read ("timed out"); ``value`` is what files and code use ("timed_out")."""
        return _STATUS_LOOK[self][0]

    @property
    def color(self) -> str:
        """A mid-tone that reads on light and dark backgrounds, as ``#rrggbb``."""
        return _STATUS_LOOK[self][1]


#: The one place for how statuses look, in the order every view lists them.
#: Colours are mid-tones so that the same hue reads on light and dark palettes.
_STATUS_LOOK: dict[Status, tuple[str, str]] = {
    Status.OK: ("ok", "#2e9e5b"),
    Status.FAILED: ("failed", "#d94040"),
    Status.TIMED_OUT: ("timed out", "#e08a14"),
    Status.CANCELLED: ("cancelled", "#8c919a"),
}
STATUS_ORDER: tuple[Status, ...] = tuple(_STATUS_LOOK)


class ErrorInfo(NamedTuple):
    """Why an item did not end ``ok``: the exception type, message and traceback.

    For engine-made errors (a dead worker, a timeout, a cancel) ``type`` names
    the cause (``"WorkerDied"``, ``"Timeout"``, ``"Cancelled"``) and
    ``traceback`` is empty.
    """

    type: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


#: The error of every item a cancel left without an outcome (the engine's and the run host's).
CANCELLED_ERROR = ErrorInfo("Cancelled", "the run was cancelled before this item finished")
#: The error of every item that had not started when the run was told to stop after its current items
#: (``Job.stop_after_current``): its status is ``cancelled`` too, but nothing running was thrown away.
STOPPED_ERROR = ErrorInfo("Stopped", "the run was stopped after its current items before this item started")


class Outcome(NamedTuple):
    """The end of one input item.

    ``index`` is the item's position in the input; ``started_s`` is when the
    item started running, in seconds since the job started (``None`` for items
    that never ran); ``worker`` is the worker slot (``0 .. workers-1``) that
    ran it, stable across replacements of a dead process; ``pid`` and
    ``tid`` are the OS process and native thread ids that ran it (``None``
    for items that never ran): unlike the slot, they tell apart two processes
    that held the same slot one after the other.
    """

    # Shadows tuple.index(), which nobody calls on an outcome: the field name is
    # the public record's (files, tests, the window), the method is not.
    index: int  # type: ignore[assignment]
    item: Any
    status: Status
    value: Any = None
    error: ErrorInfo | None = None
    elapsed_s: float = 0.0
    worker: int | None = None
    started_s: float | None = None
    pid: int | None = None
    tid: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


_MISSING: Any = object()


class Record:
    """A plain mutable record: its fields are the class's annotations, in order; class values are defaults.

    What ``@dataclass`` gives these records (construction by position or by
    keyword, equality and repr by fields, a deep ``as_dict``) without importing
    ``dataclasses``, which imports ``inspect`` (ast, dis, tokenize): ~5 ms that
    ``from poolside import run`` would pay before a one-shot script's first item.
    A mutable default comes from ``_factories``.
    """

    _fields: ClassVar[tuple[str, ...]] = ()
    _factories: ClassVar[dict[str, Callable[[], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: list[str] = []
        for klass in reversed(cls.__mro__):
            for name, kind in vars(klass).get("__annotations__", {}).items():
                if not name.startswith("_") and "ClassVar" not in str(kind) and name not in fields:
                    fields.append(name)
        cls._fields = tuple(fields)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if len(args) > len(cls._fields):
            raise TypeError(f"{cls.__name__} takes at most {len(cls._fields)} fields, not {len(args)}")
        values = dict(zip(cls._fields, args))
        for name, value in kwargs.items():
            if name not in cls._fields:
                raise TypeError(f"{cls.__name__} has no field {name!r}")
            if name in values:
                raise TypeError(f"{cls.__name__} got field {name!r} twice")
            values[name] = value
        for name in cls._fields:
            if name in values:
                value = values[name]
            elif name in cls._factories:
                value = cls._factories[name]()
            else:
                value = getattr(cls, name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__} needs its field {name!r}")
            setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (``dataclasses.replace`` for these records)."""
        return type(self)(**{f: getattr(self, f) for f in self._fields} | changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict, records inside (and in lists) as dicts too, like ``dataclasses.asdict``."""
        return {f: _as_plain(getattr(self, f)) for f in self._fields}


def _as_plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_plain(v) for k, v in value.items()}
    return value


class Summary(Record):
    """Counts per status and timings of a job; a snapshot, safe to keep."""

    _factories = {"counts": lambda: {s.value: 0 for s in Status}}

    backend: str
    workers: int
    counts: dict[str, int]
    wall_s: float = 0.0
    #: CPU seconds spent by the tasks (the sum of the items' run times as the
    #: workers measured them, plus the process tree's CPU where it is known).
    cpu_s: float = 0.0
    done: bool = False
    #: Set when the input iterable itself raised: what it said.
    input_error: str | None = None
    #: Items of the input that got no outcome because the run ended before it
    #: read them (a cancel while the input was stuck, or on an input that may
    #: never end); ``None`` when the input cannot say how many (a generator).
    not_read: int | None = 0
    #: Where the time and memory went (``poolside.engine.insights.Insights``), once done.
    #: Its figures are over the run's active time, ``wall_s - paused_s``: a
    #: paused run's workers are not idle by choice, so a pause does not count
    #: against them.
    insights: Any = None
    #: Seconds the run spent paused (``Job.pause`` until ``resume``), part of ``wall_s``.
    paused_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def items_per_s(self) -> float:
        return self.total / self.wall_s if self.wall_s > 0 else 0.0

    def line(self) -> str:
        """One line for a terminal, a log or a status bar (``poolside.words.runs.summary_line``)."""
        from .words.runs import summary_line

        return summary_line(self)


def error_info(exc: BaseException) -> ErrorInfo:
    """An exception as a picklable record, with the worker's own traceback.

    Never raises: this runs inside a worker's loop, and an error in it would
    kill the worker (a thread's run would never finish; a process would die
    and hide the real error behind "worker process died").
    """
    return ErrorInfo(type(exc).__name__, describe_error(exc), _safe_traceback(exc))


def describe_error(exc: BaseException) -> str:
    """``str(exc)``, made safe and never empty where that would say nothing.

    An exception's ``__str__`` is the task's code and may itself raise: then
    its ``repr`` stands in, and if that raises too the message says so.  A
    ``MemoryError`` usually has no message at all: it gets one that says the
    task ran out of memory, and under which limit.
    """
    try:
        message = str(exc)
    except Exception as str_error:
        try:
            shown = repr(exc)
        except Exception as repr_error:
            return (f"(no message: str() raised {type(str_error).__name__} "
                    f"and repr() raised {type(repr_error).__name__} too)")
        return f"{shown} (str() raised {type(str_error).__name__})"
    if not message and isinstance(exc, MemoryError):
        return out_of_memory_message()
    return message


def out_of_memory_message() -> str:
    """What a bare ``MemoryError`` means, with the process's memory limits if any are set."""
    limits = _memory_limits()
    return f"the task ran out of memory: {limits}" if limits else "the task ran out of memory"


# The limits a process can be given (ulimit -v, -d, -m; a container sets them too).
_LIMITS = (("RLIMIT_AS", "of address space"), ("RLIMIT_DATA", "of data"), ("RLIMIT_RSS", "resident"))


def _memory_limits() -> str:
    """``"the process is limited to 512 MiB of address space (RLIMIT_AS)"``, or ``""``."""
    try:
        import resource  # Unix only
    except ImportError:
        return ""
    limits = []
    for name, what in _LIMITS:
        try:
            soft, _hard = resource.getrlimit(getattr(resource, name))
        except (AttributeError, OSError, ValueError):
            continue
        if soft != resource.RLIM_INFINITY:
            limits.append(f"{soft / 2**20:,.0f} MiB {what} ({name})")
    return "the process is limited to " + " and ".join(limits) if limits else ""


def _safe_traceback(exc: BaseException) -> str:
    # Imported here: traceback (with linecache, tokenize, textwrap) is ~1.5 ms that a
    # worker process would otherwise pay before its first item, for the items that fail.
    import traceback

    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception as tb_error:
        return f"(the traceback could not be formatted: {type(tb_error).__name__})"
