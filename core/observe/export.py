"""An observation as a Perfetto / chrome://tracing file: a track per process and per thread.

    Observer.series() (usage.Monitor's) ─► trace.counter_events: machine and tree CPU %, memory,
                                           each process's CPU % and RSS; a counter per core
    each ThreadTrack's samples ─────────► a "C" counter per thread in its process: CPU % and run-queue %
    roles ──────────────────────────────► "M" names: "worker of loky 1234 (pid 5678)"

The counters and the file format are :mod:`poolside.trace`'s; only the
per-thread counters and the names are observe's.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..trace import TREE_PID, counter_events
from ..words.observe import role_label
from .sampler import Observer


def trace_events(observer: Observer, label: str) -> list[dict[str, Any]]:
    series = observer.series()
    events: list[dict[str, Any]] = [{"name": "process_name", "ph": "M", "pid": TREE_PID, "tid": 0,
                                     "args": {"name": f"{label}: process tree and machine"}}]
    tracks = list(observer.processes.values())
    for p in tracks:
        events.append({"name": "process_name", "ph": "M", "pid": p.pid, "tid": 0,
                       "args": {"name": f"{role_label(p.role.role, p.role.pool)} (pid {p.pid})"}})
        for t in p.threads.values():
            events.append({"name": "thread_name", "ph": "M", "pid": p.pid, "tid": t.tid,
                           "args": {"name": f"{t.name} {t.tid}"}})
    events.extend(counter_events(series))
    events.extend(_core_counters(series))
    # Both clocks count from the observation's start: the series' origin is set to it (Observer.start).
    for p in tracks:
        for t in p.threads.values():
            name = f"thread {t.name} {t.tid}: % of one core"
            for at, cpu, wait in t.samples:
                ts = round(at * 1e6)
                events.append({"name": name, "ph": "C", "ts": ts, "pid": p.pid, "tid": t.tid,
                               "args": {"cpu": round(100 * cpu, 2), "run-queue wait": round(100 * wait, 2)}})
    return events


def _core_counters(series: dict[str, Any]) -> list[dict[str, Any]]:
    """A counter per core on the machine's track: user and system %."""
    events: list[dict[str, Any]] = []
    user, system = series.get("core_user"), series.get("core_system")
    if user is None or system is None:
        return events
    for i, at in enumerate(series.get("t", ())):
        ts = round(float(at) * 1e6)
        if ts < 0:
            continue
        for core in range(user.shape[1] if len(user.shape) == 2 else 0):
            u, s = float(user[i, core]), float(system[i, core])
            if u == u and s == s:  # NaN: no time passed between two samples
                events.append({"name": f"core {core} CPU %", "ph": "C", "ts": ts, "pid": TREE_PID,
                               "args": {"user": round(u, 2), "system": round(s, 2)}})
    return events


def write_trace(path: str | os.PathLike, observer: Observer, label: str = "poolside observe") -> int:
    """Write the trace; the number of events."""
    events = trace_events(observer, label)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f, ensure_ascii=False)
    return len(events)
