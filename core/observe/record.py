"""An observation as one plain record: the ``--json`` shape, what the history keeps, what the window shows.

::

    {"command", "exit_code", "wall_s",
     "machine": {"cores", "logical_cores", "cpu_model", "load_average"},
     "processes": [{"pid", "role", "pool", "cpu_s", "peak_rss_mb",
                    "threads": [{"tid", "name", "cpu_s", "wait_s"}]}],
     "verdict": {"kind", "why", "evidence": {...}}}

``cpu_s`` and ``wait_s`` count from a process's (a thread's) birth if it was
born while observed, else from when it was first seen; ``wait_s`` is the
run-queue wait (runnable, no core free).  What could not be read is in
``verdict.evidence.not_seen``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..words import observe as say
from .sampler import ProcessTrack
from .verdict import judge


def machine() -> dict[str, Any]:
    from ..system import system_info

    info = system_info()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {"cores": info.usable_cores, "logical_cores": info.logical_cores,
            "cpu_model": info.cpu_model, "load_average": load}


def process_record(p: ProcessTrack) -> dict[str, Any]:
    return {"pid": p.pid, "role": p.role.role, "pool": p.role.pool, "cpu_s": round(p.cpu_s, 3),
            "peak_rss_mb": round(p.peak_rss / 1e6, 1),
            "threads": [{"tid": t.tid, "name": t.name, "cpu_s": round(t.cpu_s, 3), "wait_s": round(t.wait_s, 3)}
                        for t in sorted(p.threads.values(), key=lambda t: t.tid)]}


def observation_record(command: Sequence[str] | str, exit_code: int | None, wall_s: float,
                       tracks: Sequence[ProcessTrack], not_seen: Sequence[str] = ()) -> dict[str, Any]:
    """The record (see the module's docstring); the main process first, then by role and pid."""
    host = machine()
    verdict = judge(tracks, cores=host["cores"], wall_s=wall_s)
    evidence = dict(verdict.evidence)
    if not_seen:
        evidence["not_seen"] = list(not_seen)
    order = {"main": 0, "worker": 1, "child": 2, "helper": 3}
    ranked = sorted(tracks, key=lambda p: (order.get(p.role.role, 9), p.role.pool or "", p.pid))
    return {
        "command": command if isinstance(command, str) else list(command),
        "exit_code": exit_code,
        "wall_s": round(wall_s, 3),
        "machine": host,
        "processes": [process_record(p) for p in ranked],
        "verdict": {"kind": verdict.kind, "why": say.why(verdict.kind, evidence), "evidence": evidence},
    }
