"""Resume: run again only what has no ``ok`` outcome yet, as a continuation of the interrupted run.

    --resume ID|last ──► the run's family (the run, what it continued, what continued it)
        ├─ ok items of every member, by absolute path ─────────────┐
        ├─ the spec recorded (paths absolute) ──prepare()──► walk ──┼─► to run: walked, not ok
        │                                                           ├─► new: walked, never recorded
        │                                                           └─► vanished: recorded, not walked
        └─ plugin fingerprint now != then ──► ResumeError unless force

:func:`done_items` is the same knowledge for a watched folder: what an earlier run of
the same job already did ok, so that a restarted watch does not run it again.

Items are identified by their absolute path (a folder is walked again, so new
files join and vanished ones are reported).  An item recorded ``ok`` anywhere
in the family is never run again.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..words.runs import unrecorded_note
from . import store
from .recorder import fingerprint


class ResumeError(Exception):
    """The run cannot be resumed as asked: the message says why and what to do."""


@dataclass
class ResumeItems:
    """The items to run, with what the CLI's progress and notes read from a walk."""

    items: list[Any]
    note: str = ""
    yielded: int = field(init=False)
    done: bool = True

    def __post_init__(self) -> None:
        self.yielded = len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def skipped_note(self) -> str:
        return self.note


@dataclass
class ResumePlan:
    parent_id: int  #: the newest run of the family: the new run continues it
    spec: Any  #: the JobSpec recorded
    prepared: Any  #: the spec prepared again (plugin, task), items walked afresh
    items: ResumeItems
    already_ok: int
    new: int
    vanished: list[str]
    plugin_changed: bool
    #: Items walked that the family's history has no outcome for although the run may have done them
    #: (its history stopped part-way, or it was killed): they run again; ``new`` is 0 then.
    unrecorded: int = 0
    #: What the history cannot know about them, in words ("" when every item is accounted for).
    unrecorded_note: str = ""


def plan_resume(ref: str, *, force: bool = False) -> ResumePlan:
    """What is left of run ``ref`` (a number or ``last``); :class:`ResumeError` saying why it cannot be."""
    try:
        return _plan(ref, force)
    except (store.HistoryError, sqlite3.DatabaseError) as e:  # a damaged history: said, never a traceback
        raise ResumeError(f"{e}; there is nothing to resume from (see 'poolside history')") from None


def _plan(ref: str, force: bool) -> ResumePlan:
    from ..spec import JobSpec, SpecError

    conn = store.connect()
    try:
        run_id = _resolve(conn, ref)
        run = store.get_run(conn, run_id)
        if run is None or run["kind"] != "run":
            raise ResumeError(f"history has no run {ref!r} (see 'poolside history')")
        members = store.family(conn, run_id)
        last = store.get_run(conn, max(members))  # the run a resume continues: how its history ended
        ok: set[bytes] = set()
        seen: set[bytes] = set()
        for member in members:
            cwd = conn.execute("SELECT cwd FROM runs WHERE id = ?", (member,)).fetchone()[0] or b""
            for name, status in store.outcomes(conn, member):
                key = _key(name, cwd)
                seen.add(key)
                if status == "ok":
                    ok.add(key)
    finally:
        conn.close()
    try:
        spec = JobSpec.from_dict(run["spec"])
        prepared = spec.prepare()
    except SpecError as e:
        raise ResumeError(f"run {run_id} cannot be prepared again: {e}") from None
    changed = run["plugin_hash"] is not None and fingerprint(spec) != run["plugin_hash"]
    if changed and not force:
        raise ResumeError(f"the plugin {spec.plugin!r} changed since run {run_id} was recorded; its results "
                          "may differ from the ones kept: add --force to resume anyway")
    todo, walked = [], set()
    for item in prepared.items:
        key = _key(os.fsencode(item), b"")
        walked.add(key)
        if key not in ok:
            todo.append(item)
    vanished = sorted(os.fsdecode(k) for k in seen - walked)
    items = ResumeItems(todo, prepared.items.skipped_note())
    plan = ResumePlan(max(members), spec, prepared, items, len(ok & walked), len(walked - seen), vanished,
                      changed)
    # A run with no end recorded (killed, its history stopped and the store full, or still running):
    # what its history lacks may be done already; it is not known to be new.
    if plan.new and last is not None and last["state"] in ("incomplete", "killed", "running"):
        # Not new: the walk finds them, the history just never kept their outcomes.
        plan.unrecorded, plan.new = plan.new, 0
        recorded = sum(int(last.get(s) or 0) for s in ("ok", "failed", "timed_out", "cancelled"))
        plan.unrecorded_note = unrecorded_note(last["id"], last["state"], recorded, last.get("total"),
                                               plan.unrecorded)
    return plan


def _resolve(conn: Any, ref: str) -> int:
    if ref == "last":
        found = store.last_run_id(conn, "run")
        if found is None:
            raise ResumeError("the history has no run yet")
        return found
    try:
        return int(ref)
    except ValueError:
        raise ResumeError(f"--resume takes a run number or 'last', not {ref!r}") from None


def _key(name: bytes, cwd: bytes | str) -> bytes:
    """An item's identity: its absolute, normalised path."""
    return os.path.normpath(os.path.join(os.fsencode(cwd), name))


#: What makes an item's outcome the same, for :func:`done_items`: the task and its settings.  The
#: inputs, patterns, backend and workers choose which items run and where, not what each one gives.
_SAME_JOB = ("plugin", "params")


def done_items(spec: Any, task: Any = None) -> set[bytes]:
    """Every item recorded ``ok`` by an earlier run of the same task with the same settings, as
    :func:`_key` names them: what a watched folder does not run again after a restart.  ``task``:
    the spec's bound task, so that path settings compare as recorded (absolute).

    Raises :class:`~poolside.history.store.HistoryError` when the history cannot be read.
    """
    from .recorder import recordable_spec

    wanted = recordable_spec(spec, task)
    same = {k: wanted.get(k) for k in _SAME_JOB}
    if not store.enabled():
        return set()
    conn = store.connect()
    try:
        done: set[bytes] = set()
        rows = conn.execute("SELECT id, spec, cwd FROM runs WHERE kind = 'run' AND plugin = ?", (spec.plugin,))
        for run_id, text, cwd in rows.fetchall():
            try:
                recorded = json.loads(text)
            except ValueError:
                continue  # a row no Poolside wrote: not this job
            if {k: recorded.get(k) for k in _SAME_JOB} != same:
                continue
            done.update(_key(name, cwd or b"") for name, status in store.outcomes(conn, run_id) if status == "ok")
        return done
    except sqlite3.DatabaseError as e:
        raise store.HistoryError(f"the history cannot be read: {e}") from None
    finally:
        conn.close()
