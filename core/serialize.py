"""One way to write Poolside's records, for every front end and store.

    Outcome ──outcome_record()──► a flat dict of plain values ──┬─► JSON Lines  (CLI --output, streamed)
                                                                ├─► CSV         (CLI --output, window export)
                                                                ├─► JSON        (window export)
                                                                └─► history rows (the database)
    Summary ──summary_record()──► a dict of plain values (companion summary, JSON export, history)
    anything ──dumps() / json.dump(default=jsonable)──► JSON (the history's specs and studies,
                                                          ``compare --json``, study exports)

Every writer goes through :func:`outcome_record`, so a file name with bytes
that are not UTF-8 (they arrive as surrogate escapes), a value that JSON cannot
hold (a ``Path``, ``bytes``, ``inf``) or a multi-line error reads the same in
every file and never raises while writing.  Nothing here formats numbers for
people: records keep seconds as floats and counts as ints.

:func:`jsonable` is the one place a value JSON cannot hold becomes one it can:
a plugin's settings (``Path``, ``Literal`` choices), the study's numbers (numpy
scalars), sets, enums, dataclasses.  :func:`plain` uses it for records people
read (surrogates made printable); :func:`dumps` uses it for records Poolside
reads back (ASCII JSON: a path that is not UTF-8 round-trips exactly).
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import errno
import json
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import IO, Any

from .inputs import display, printable
from .log import get_logger
from .records import Record

_log = get_logger(__name__)

#: The fields of an outcome record, in the order files show them.  ``error``
#: is one line ("Type: message"); ``error_type`` and ``traceback`` keep the
#: rest for whoever needs to dig in.
FIELDS: tuple[str, ...] = (
    "index", "item", "status", "value", "error", "elapsed_s", "worker",
    "started_s", "pid", "tid", "error_type", "traceback",
)


def jsonable(value: Any) -> Any:
    """``value``, which JSON cannot hold as it is, as something it can: the ``default`` of every ``json.dump``.

    A path is its text (``os.fsdecode``: surrogates kept, so ASCII JSON
    round-trips it), an enum its value, a set a sorted list, a dataclass its
    fields, bytes their hex, a numpy scalar or array its Python number or list;
    anything else its ``str``.  Never raises: a record is never lost to one odd value.
    """
    if isinstance(value, PurePath):
        return os.fsdecode(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:  # mixed types: any order, but every element
            return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: v for k, v in value.items()}
    if isinstance(value, tuple):  # a NamedTuple subclass json already takes; any other sequence-like record
        return list(value)
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, without importing numpy
    if callable(tolist):
        try:
            return tolist()
        except Exception as e:  # a tolist() that is not numpy's: its str below says what it was
            _log.debug("jsonable: %s.tolist() failed: %s", type(value).__name__, e)
    return str(value)


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` for records Poolside reads back (the history): every value through :func:`jsonable`."""
    return json.dumps(value, default=jsonable, **options)


def plain(value: Any) -> Any:
    """``value`` as JSON-able data for people to read: no surrogates, no NaN (via :func:`jsonable`)."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, PurePath):
        return display(value)
    converted = jsonable(value)
    return printable(converted) if isinstance(converted, str) else plain(converted)


def outcome_record(o: Any) -> dict[str, Any]:
    """One outcome as a flat dict of plain values (keys: :data:`FIELDS`)."""
    e = o.error
    return {
        "index": o.index,
        "item": display(o.item),
        "status": str(o.status),
        "value": plain(o.value),
        "error": None if e is None else printable(str(e)),
        "elapsed_s": round(o.elapsed_s, 6),
        "worker": o.worker,
        "started_s": None if o.started_s is None else round(o.started_s, 6),
        "pid": o.pid,
        "tid": o.tid,
        "error_type": None if e is None else printable(e.type),
        "traceback": None if e is None or not e.traceback else printable(e.traceback),
    }


def summary_record(summary: Any) -> dict[str, Any]:
    """A run's summary (with its insights, when it has them) as plain data."""
    if isinstance(summary, Record):
        record = plain(summary.as_dict())
    elif dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        record = plain(dataclasses.asdict(summary))
    else:
        record = plain(vars(summary))
    record["total"] = summary.total
    record["items_per_s"] = round(summary.items_per_s, 3)
    return record


# -- writers ------------------------------------------------------------------

class DiskFull(OSError):
    """A write failed for want of space; its message names the file and the cause."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)  # not "[Errno 28] ...": the message says it in words


# What SQLite says when a write fails for want of space: SQLITE_FULL, and
# SQLITE_IOERR, which is what a write to its journal or WAL that meets a full
# disk usually turns into.
_SQLITE_FULL = ("database or disk is full", "disk i/o error")


def disk_is_full(e: BaseException, path: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``e`` is a write that failed because the disk (or the user's quota) is full.

    ENOSPC and EDQUOT say so.  SQLite's "disk I/O error" may have other causes
    (a failing disk, a removed drive): it counts as full only when the disk
    holding ``path`` has no space left.
    """
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    text = str(e).lower()
    if not any(t in text for t in _SQLITE_FULL):
        return False
    if "full" in text or path is None:
        return "full" in text
    return _no_space_left(path)


def _no_space_left(path: str | os.PathLike[str]) -> bool:
    folder = os.fspath(path)
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        st = os.statvfs(folder or ".")
    except (OSError, AttributeError):  # no statvfs on Windows: not known, so not said
        return False
    # Less than a few pages free: what SQLite or a file's buffer needs next does not fit.
    return st.f_bavail * st.f_frsize < 64 * 1024


class OutcomeWriter:
    """One record per outcome, flushed after every batch: a crash loses no finished record."""

    def __init__(self, stream: IO[str], columns: Sequence[str] = ()) -> None:
        self.stream = stream
        self.columns = tuple(columns)
        self.count = 0

    def write(self, batch: Iterable[Any]) -> None:
        """Write and flush a batch; a full disk raises ``OSError`` that says so, naming the file."""
        try:
            for o in batch:
                self._write(outcome_record(o))
                self.count += 1
            self.stream.flush()
        except OSError as e:
            if not disk_is_full(e, getattr(self.stream, "name", None)):
                raise
            raise DiskFull(f"the disk is full: {display(self.stream.name)} cannot be written "
                           f"(free some space, or write --output to another disk)") from e

    def _write(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        try:
            self.stream.close()
        except OSError:
            pass


class JsonLinesWriter(OutcomeWriter):
    def _write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


class CsvWriter(OutcomeWriter):
    """CSV with a column per field of a dict value, as a table shows them.

    The columns are the plugin's declared ones, else the keys of the first
    dict value seen (known after the first record: a CSV header cannot wait).
    Keys beyond those go, as JSON, into the ``value`` column.
    """

    def __init__(self, stream: IO[str], columns: Sequence[str] = ()) -> None:
        super().__init__(stream, columns)
        self.writer = csv.writer(stream)
        self.header: list[str] | None = None

    def _write(self, record: dict[str, Any]) -> None:
        value = record["value"]
        if self.header is None:
            columns = list(self.columns)
            if not columns and isinstance(value, dict):
                columns = list(value)
            self.columns = tuple(c for c in columns if c not in FIELDS)
            self.header = [*FIELDS, *self.columns]
            self.writer.writerow(self.header)
        row = dict(record)
        if isinstance(value, dict) and self.columns:
            rest = {k: v for k, v in value.items() if k not in self.columns}
            for k in self.columns:
                row[k] = value.get(k)
            row["value"] = json.dumps(rest, ensure_ascii=False) if rest else None
        elif isinstance(value, (dict, list)):
            row["value"] = json.dumps(value, ensure_ascii=False)
        self.writer.writerow(["" if row.get(c) is None else row.get(c) for c in self.header])


_WRITERS: dict[str, type[OutcomeWriter]] = {".jsonl": JsonLinesWriter, ".ndjson": JsonLinesWriter,
                                            ".csv": CsvWriter}


def open_writer(path: str | os.PathLike[str], columns: Sequence[str] = ()) -> OutcomeWriter:
    """A streaming writer chosen by the file's extension; ``ValueError`` says what is wrong."""
    kind = _WRITERS.get(Path(path).suffix.lower())
    if kind is None:
        raise ValueError(f"{display(path)!r}: the name must end in .jsonl or .csv")
    try:
        stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - the writer owns it
    except OSError as e:
        raise ValueError(f"{display(path)!r}: cannot write it: {e.strerror or e}") from None
    return kind(stream, columns)


def write_json(path: str | os.PathLike[str], outcomes: Iterable[Any], summary: Any = None) -> int:
    """Write ``{"summary": …, "results": [...]}`` in one go; return the number of results."""
    records = [outcome_record(o) for o in outcomes]
    doc: dict[str, Any] = {"results": records}
    if summary is not None:
        doc = {"summary": summary_record(summary), **doc}
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
    except OSError as e:
        if not disk_is_full(e, path):
            raise
        raise DiskFull(f"the disk is full: {display(path)} cannot be written") from e
    return len(records)


def write_file(path: str | os.PathLike[str], outcomes: Iterable[Any], columns: Sequence[str] = (),
               summary: Any = None) -> int:
    """Every outcome to one file, the format by its extension (.json, .jsonl, .csv)."""
    if Path(path).suffix.lower() == ".json":
        return write_json(path, outcomes, summary)
    writer = open_writer(path, columns)
    try:
        writer.write(outcomes)
    finally:
        writer.close()
    return writer.count
