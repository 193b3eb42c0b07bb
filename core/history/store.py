"""The history database: every run and every study, in SQLite, in the user's data folder.

    runs      one row per run or study: when, the job spec (+ plugin fingerprint), counts,
              wall and CPU time, insights, the study record; parent_id = the run it continues
    batches   a run's outcomes in columns, one row per batch written: item paths
              (NUL-joined, zlib), status codes (one byte each), item times (float32)
    failures  every failed or timed-out item in full: error type, message, traceback
    run_series  a run's CPU and memory samples (machine, cores, each process), one npz blob
    queue     jobs waiting to run after the current one, in order (queue.py)

Why columns in blobs: a row per item costs ~2.5 us to insert, more than a tiny
item itself; a batch of 10,000 outcomes becomes three blobs and one INSERT.
Why WAL with synchronous=NORMAL: a commit is an append to the log, without an
fsync; a process killed at any moment (SIGKILL, a crash) loses nothing
committed, and a power cut loses at most the last commits, never the database.

The folder is its owner's only (0700) and the database too (0600, and so its
-wal and -shm): it holds file paths, parameters and error messages.

``POOLSIDE_HOME`` moves the folder (tests always set it); ``POOLSIDE_HISTORY=off``
turns recording off (it holds file paths).  Schema changes are migrations keyed
by ``PRAGMA user_version``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..log import get_logger
from ..records import STATUS_ORDER
from ..serialize import disk_is_full

log = get_logger(__name__)

#: Outcome status <-> the byte stored per item: its place in ``records.STATUS_ORDER``
#: (ok 0, failed 1, timed_out 2, cancelled 3).  Databases hold these bytes, so a new
#: status goes at the end of that order; tests/history/test_status_codes.py pins them.
STATUS_CODES = {status.value: code for code, status in enumerate(STATUS_ORDER)}
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
# The history's size cap: old runs are pruned past it.  256 MB holds about 15
# million outcomes of long paths; POOLSIDE_HISTORY_MAX_MB changes it.
DEFAULT_MAX_MB = 256.0

_MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,                 -- 'run' or 'study'
        parent_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        started_at REAL NOT NULL,           -- Unix time
        finished_at REAL,                   -- NULL: still running, or killed
        state TEXT NOT NULL,                -- running, finished, interrupted (3: incomplete, 4: paused, stopped)
        plugin TEXT NOT NULL,
        plugin_hash TEXT,
        spec TEXT NOT NULL,                 -- JobSpec.to_dict() as JSON, paths absolute
        cwd TEXT,
        pid INTEGER,                        -- the recording process: a 'running' row whose pid is gone was killed
        backend TEXT, workers INTEGER,
        total INTEGER, ok INTEGER, failed INTEGER, timed_out INTEGER, cancelled INTEGER,
        wall_s REAL, cpu_s REAL,
        summary TEXT,                       -- summary_record() with insights, as JSON
        study TEXT,                         -- StudyResult.to_dict() as JSON
        poolside TEXT
    );
    CREATE INDEX runs_parent ON runs(parent_id);
    CREATE TABLE batches (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        n INTEGER NOT NULL,
        items BLOB NOT NULL, status BLOB NOT NULL, elapsed BLOB NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE failures (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        item TEXT NOT NULL, status TEXT NOT NULL,
        error_type TEXT, message TEXT, traceback TEXT, elapsed_s REAL
    );
    CREATE INDEX failures_run ON failures(run_id);
    """,
    # 2: a run's CPU and memory series (usage.Monitor.series()), one compressed blob (see series.py)
    """
    CREATE TABLE run_series (
        run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        samples INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # 3: why a run's history stopped part-way (state 'incomplete'): its later outcomes are not kept
    """
    ALTER TABLE runs ADD COLUMN history_error TEXT;
    """,
    # 4: jobs waiting their turn (see queue.py): the window's queue outlives the window
    """
    CREATE TABLE queue (
        id INTEGER PRIMARY KEY,
        position INTEGER NOT NULL,          -- the order they run in, lowest first
        added_at REAL NOT NULL,             -- Unix time
        label TEXT NOT NULL,                -- what the queue shows ("sha256 over 12 files")
        spec TEXT NOT NULL                  -- JobSpec.to_dict() as JSON, paths absolute
    );
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


class HistoryError(Exception):
    """The history cannot be read or written (a newer schema, a corrupt file): the message says which."""


def enabled() -> bool:
    return os.environ.get("POOLSIDE_HISTORY", "").strip().lower() not in ("off", "0", "no", "false")


def data_dir() -> Path:
    home = os.environ.get("POOLSIDE_HOME")
    return Path(home) if home else _default_dir()


def _default_dir() -> Path:
    import platformdirs  # the right folder on Linux, macOS and Windows, without guessing

    return Path(platformdirs.user_data_dir("poolside", appauthor=False))


def db_path() -> Path:
    return data_dir() / "history.sqlite3"


def max_bytes() -> int:
    try:
        mb = float(os.environ.get("POOLSIDE_HISTORY_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1e6)


def connect(path: Path | None = None) -> sqlite3.Connection:
    """A connection with the schema migrated; one per thread (sqlite3's rule).

    Raises :class:`HistoryError` and nothing else: a file where the folder
    should be, a folder that cannot be written, a damaged file.
    """
    path = path or db_path()
    try:
        _private(path)
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)  # autocommit; transactions explicit
    except (OSError, sqlite3.Error) as e:
        raise HistoryError(f"the history at {path} cannot be used: {_os_reason(e, path)}") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _migrate(conn)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise HistoryError(f"the history at {path} cannot be used: {_os_reason(e, path)}") from None
    return conn


# The history holds file paths, parameters and error messages: for its owner only.
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_SIDE_FILES = ("-wal", "-shm")


def _private(path: Path) -> None:
    """The folder 0700 and the database 0600, made so or tightened (with a log line).

    SQLite creates the -wal and -shm files with the database's own mode, so a
    database made 0600 before SQLite opens it keeps its logs private too.
    """
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    elif folder == _default_dir():
        # Poolside's own folder is tightened; a folder the user named (POOLSIDE_HOME,
        # perhaps their home or a shared one) keeps its mode: the files in it are private.
        _tighten(folder, _DIR_MODE)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, _FILE_MODE))
    for file in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
        if file.exists():
            _tighten(file, _FILE_MODE)


_said_loose: set[Path] = set()


def _tighten(path: Path, mode: int) -> None:
    current = path.stat().st_mode & 0o777
    if current & ~mode:
        try:
            os.chmod(path, current & mode)
        except OSError as e:  # not the owner, or a read-only mount: the history still works
            if path in _said_loose:
                return
            _said_loose.add(path)  # every connection would say it again: once a process
            log.warning("the history file %s is readable by others (mode %o) and cannot be made private: %s",
                        path, current, e)
            return
        log.info("made %s private to its owner (mode %o, was %o)", path, current & mode, current)


def _os_reason(e: BaseException, path: Path | None = None) -> str:
    if disk_is_full(e, path):
        return (f"the disk is full (free some space, or set POOLSIDE_HOME to a folder on another disk; "
                f"the system said: {_disk_note(e)})")
    if isinstance(e, OSError) and e.strerror:
        return e.strerror + (f": {os.fsdecode(e.filename)}" if e.filename else "")
    return str(e) or type(e).__name__


def move_aside(path: Path | None = None) -> Path | None:
    """Rename a history that cannot be used to ``<name>.broken-<timestamp>`` (its -wal and -shm
    along with it), so that the next :func:`connect` starts a new one; return the new name (None: no file).

    Raises :class:`HistoryError` when it cannot be renamed (the message says why).
    """
    path = path or db_path()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():  # twice in a second: never over an earlier one
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    try:
        # The logs first: a -wal left beside a new database would be replayed into it.
        for side in _SIDE_FILES:
            log_file = path.with_name(path.name + side)
            if log_file.exists():
                os.replace(log_file, target.with_name(target.name + side))
        if not (path.exists() or path.is_symlink()):
            return None
        os.replace(path, target)
    except OSError as e:
        raise HistoryError(f"the history at {path} cannot be moved aside: {_os_reason(e)}") from None
    log.warning("moved the history %s aside to %s", path, target)
    return target


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(f"the history was written by a newer Poolside (schema {version}; this one knows "
                           f"{SCHEMA_VERSION})")
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        # Freed pages can be given back to the file system by prune (set before any table exists).
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            for statement in _MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _disk_note(e: BaseException) -> str:
    return str(e) if not isinstance(e, OSError) or not e.strerror else e.strerror


def _file_of(conn: sqlite3.Connection) -> Path:
    try:
        return Path(conn.execute("PRAGMA database_list").fetchone()[2])
    except (sqlite3.Error, TypeError, IndexError):
        return db_path()


def _full_disk(conn: sqlite3.Connection, e: BaseException) -> HistoryError | None:
    """A HistoryError that says the disk is full, if that is why ``e`` happened."""
    path = _file_of(conn)
    if not disk_is_full(e, path):
        return None
    return HistoryError(f"the disk is full: the history at {path} cannot be written "
                        f"(free some space, or set POOLSIDE_HOME to a folder on another disk; "
                        f"the system said: {_disk_note(e)})")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction; a write that fails for want of space raises ``HistoryError`` that says so."""
    conn.execute("BEGIN")
    try:
        yield conn
    except BaseException as e:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a full disk may fail the rollback too: the error that matters is the first
        full = _full_disk(conn, e) if isinstance(e, (sqlite3.Error, OSError)) else None
        if full is not None:
            raise full from e
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        full = _full_disk(conn, e)
        if full is None:
            raise
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        raise full from e


# -- reading -------------------------------------------------------------------

_LIST_COLUMNS = ("id", "kind", "parent_id", "started_at", "finished_at", "state", "plugin", "backend", "workers",
                 "total", "ok", "failed", "timed_out", "cancelled", "wall_s", "cpu_s")


def list_runs(conn: sqlite3.Connection, limit: int | None = 50) -> list[dict[str, Any]]:
    """Runs and studies, newest first; a run that was killed shows its counts from its outcomes."""
    rows = conn.execute(f"SELECT {', '.join(_LIST_COLUMNS)} FROM runs ORDER BY id DESC LIMIT ?",
                        (-1 if limit is None else limit,)).fetchall()
    out = [dict(zip(_LIST_COLUMNS, row)) for row in rows]
    for run in out:
        _settle_state(conn, run)
    return out


def _settle_state(conn: sqlite3.Connection, run: dict[str, Any]) -> None:
    """A run with no finish recorded: still going, or killed (its process is gone); counts from its outcomes."""
    if run["finished_at"] is not None:
        return
    pid = conn.execute("SELECT pid FROM runs WHERE id = ?", (run["id"],)).fetchone()[0]
    if run["state"] in ("running", "paused") and not (pid == os.getpid() or _alive(pid)):
        run["state"] = "killed"
    if run["kind"] == "run":
        run.update(recorded_counts(conn, run["id"]))


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    import psutil

    return psutil.pid_exists(pid)


def get_run(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    cursor = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    run = dict(zip([d[0] for d in cursor.description], row))
    for key in ("spec", "summary", "study"):
        if run[key] is not None:
            run[key] = json.loads(run[key])
    _settle_state(conn, run)
    return run


def last_run_id(conn: sqlite3.Connection, kind: str = "run") -> int | None:
    row = conn.execute("SELECT max(id) FROM runs WHERE kind = ?", (kind,)).fetchone()
    return row[0]


def failures(conn: sqlite3.Connection, run_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT item, status, error_type, message, traceback, elapsed_s FROM failures "
                        "WHERE run_id = ? LIMIT ?", (run_id, -1 if limit is None else limit)).fetchall()
    keys = ("item", "status", "error_type", "message", "traceback", "elapsed_s")
    return [dict(zip(keys, row)) for row in rows]


def outcomes(conn: sqlite3.Connection, run_id: int) -> Iterator[tuple[bytes, str]]:
    """(item as bytes, status) for every recorded outcome of a run, in the order written."""
    import zlib

    for items, status in conn.execute("SELECT items, status FROM batches WHERE run_id = ? ORDER BY seq",
                                      (run_id,)):
        names = zlib.decompress(items).split(b"\0")
        for name, code in zip(names, status):
            yield name, STATUS_NAMES[code]


def item_times(conn: sqlite3.Connection, run_id: int, limit: int | None = None) -> list[float]:
    """Each recorded outcome's time on its worker, in seconds (float32, as written), up to ``limit``."""
    import array

    times = array.array("f")
    for (blob,) in conn.execute("SELECT elapsed FROM batches WHERE run_id = ? ORDER BY seq", (run_id,)):
        times.frombytes(blob)
        if limit is not None and len(times) >= limit:
            break
    return list(times[:limit] if limit is not None else times)


def recorded_counts(conn: sqlite3.Connection, run_id: int) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_CODES, 0)
    for (status,) in conn.execute("SELECT status FROM batches WHERE run_id = ?", (run_id,)):
        for name, code in STATUS_CODES.items():
            counts[name] += status.count(code)
    counts["total"] = sum(counts.values())
    return counts


def family(conn: sqlite3.Connection, run_id: int) -> list[int]:
    """The run, the runs it continued and the runs that continued it (a resume chain), oldest first."""
    root = run_id
    while True:
        row = conn.execute("SELECT parent_id FROM runs WHERE id = ?", (root,)).fetchone()
        if row is None or row[0] is None:
            break
        root = row[0]
    members, frontier = [root], [root]
    while frontier:
        marks = ",".join("?" * len(frontier))
        frontier = [r[0] for r in conn.execute(f"SELECT id FROM runs WHERE parent_id IN ({marks})", frontier)]
        members += frontier
    return sorted(members)


# -- pruning -----------------------------------------------------------------------

def live_bytes(conn: sqlite3.Connection) -> int:
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    used = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
    return page * used


def prune(conn: sqlite3.Connection, *, limit_bytes: int | None = None, keep: int | None = None,
          older_than_s: float | None = None, spare: tuple[int, ...] = ()) -> int:
    """Delete the oldest runs (never those in ``spare`` or still running) until the rules hold; return how many."""
    deleted = 0
    # A run still recording is never pruned; one "running" for a day was killed.
    settled = f"(state NOT IN ('running', 'paused') OR started_at < {time.time() - 86400.0!r})"
    with transaction(conn):
        if keep is not None:
            deleted += conn.execute("DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC "
                                    f"LIMIT ?) AND {settled}", (keep,)).rowcount
        if older_than_s is not None:
            deleted += conn.execute(f"DELETE FROM runs WHERE started_at < ? AND {settled}",
                                    (time.time() - older_than_s,)).rowcount
    while limit_bytes is not None and live_bytes(conn) > limit_bytes:
        marks = ",".join("?" * len(spare)) or "NULL"
        row = conn.execute(f"SELECT min(id) FROM runs WHERE {settled} AND id NOT IN ({marks})",
                           spare).fetchone()
        if row[0] is None:
            break
        with transaction(conn):
            conn.execute("DELETE FROM runs WHERE id = ?", (row[0],))
        deleted += 1
    if deleted:
        conn.execute("PRAGMA incremental_vacuum")
    return deleted
