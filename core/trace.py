"""A run as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open.

::

    outcomes (pid, tid, started_s, elapsed_s) ─► one "X" event per item that ran
                                               ─► "M" events naming each process and thread
    usage.Monitor.series()  (optional)               ─► "C" counter events: CPU % and memory

Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
Times are microseconds since the run started.  A track is one (pid, tid):
a process that replaced a dead one has another pid, so its items never land
on the track of the one before.  Items that never ran (cancelled before they
started) have no pid, tid or start: they are not drawn, and the metadata
counts them.  Events on one track never overlap: a worker runs one item at a
time, but two clock reads may disagree by a rounding step, so an event that
would start before the previous one on its track ended is moved to its end
(and shortened by as much), never drawn on top of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .records import Outcome

#: The pid used for counter tracks of the whole process tree, apart from real processes.
TREE_PID = 0


def trace_events(
    outcomes: Iterable[Outcome],
    series: Mapping[str, Any] | None = None,
    *,
    chunks: Mapping[int, int] | None = None,
    label: str = "Poolside run",
    process_names: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """The trace's events: X per item that ran, M names, C counters from ``series``.

    ``chunks`` maps an outcome's index to the chunk that carried it, when known;
    ``process_names`` names processes the series does not know (a Dask cluster's workers).
    """
    ran = [o for o in outcomes if o.started_s is not None and o.pid is not None and o.tid is not None]
    ran.sort(key=lambda o: (o.pid, o.tid, o.started_s))
    events: list[dict[str, Any]] = []
    names: dict[tuple[int, int], int | None] = {}
    last_end: dict[tuple[int, int], int] = {}
    for o in ran:
        pid, tid = int(o.pid), int(o.tid)  # type: ignore[arg-type]
        track = (pid, tid)
        ts = round(o.started_s * 1e6)  # type: ignore[operator]
        end = ts + max(0, round(o.elapsed_s * 1e6))
        ts = max(ts, last_end.get(track, ts))  # never on top of the previous item
        end = max(end, ts)
        last_end[track] = end
        names.setdefault(track, o.worker)
        args: dict[str, Any] = {"status": str(o.status), "index": o.index, "worker": o.worker}
        if chunks is not None and o.index in chunks:
            args["chunk"] = chunks[o.index]
        if o.error is not None:
            args["error"] = str(o.error)
        events.append({"name": _item_name(o.item), "cat": str(o.status), "ph": "X", "ts": ts, "dur": end - ts,
                       "pid": pid, "tid": tid, "args": args})
    events[:0] = _metadata(names, series, label, process_names or {})
    if series is not None:
        events.extend(counter_events(series))
    return events


def _item_name(item: Any) -> str:
    if isinstance(item, (str, os.PathLike)):
        return os.path.basename(os.fspath(item)) or os.fspath(item)
    return str(item)


def _metadata(names: dict[tuple[int, int], int | None], series: Mapping[str, Any] | None,
              label: str, process_names: Mapping[int, str]) -> list[dict[str, Any]]:
    roles = {**process_names, **{p["pid"]: p["role"] for p in (series or {}).get("processes", [])}}
    events: list[dict[str, Any]] = []
    for pid in sorted({pid for pid, _ in names} | set(roles)):
        role = roles.get(pid, "worker process")
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                       "args": {"name": f"{role} {pid}"}})
    for (pid, tid), worker in sorted(names.items()):
        events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                       "args": {"name": f"worker {worker}" if worker is not None else f"thread {tid}"}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                       "args": {"sort_index": worker if worker is not None else tid}})
    if series is not None:
        events.append({"name": "process_name", "ph": "M", "pid": TREE_PID, "tid": 0,
                       "args": {"name": f"{label}: process tree and machine"}})
    return events


def counter_events(series: Mapping[str, Any]) -> list[dict[str, Any]]:
    """C events: the machine's and the tree's CPU %, the tree's memory, and each process's."""
    events: list[dict[str, Any]] = []
    t = series.get("t", ())
    for i in range(len(t)):
        ts = round(float(t[i]) * 1e6)
        if ts < 0:
            continue
        cpu = {"machine": _num(series["user"][i] + series["system"][i]), "poolside": _num(series["tree_cpu"][i])}
        events.append({"name": "CPU % of the machine", "ph": "C", "ts": ts, "pid": TREE_PID, "args": cpu})
        mem = {"rss": _num(series["tree_rss"][i])}
        if series["tree_uss"][i] == series["tree_uss"][i]:  # not NaN
            mem["uss"] = _num(series["tree_uss"][i])
        events.append({"name": "memory (bytes)", "ph": "C", "ts": ts, "pid": TREE_PID, "args": mem})
    for p in series.get("processes", []):
        for i in range(len(p["t"])):
            ts = round(float(p["t"][i]) * 1e6)
            if ts < 0:
                continue
            events.append({"name": "CPU % of one core", "ph": "C", "ts": ts, "pid": int(p["pid"]),
                           "args": {"cpu": _num(p["cpu"][i])}})
            events.append({"name": "RSS (bytes)", "ph": "C", "ts": ts, "pid": int(p["pid"]),
                           "args": {"rss": _num(p["rss"][i])}})
    return events


def _num(x: Any) -> float:
    x = float(x)
    return 0.0 if x != x else round(x, 3)  # NaN is not JSON


def write_trace(path: str | os.PathLike, outcomes: Iterable[Outcome], series: Mapping[str, Any] | None = None,
                **options: Any) -> int:
    """Write the trace to ``path``; returns the number of items drawn ("X" events)."""
    events = trace_events(outcomes, series, **options)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f, ensure_ascii=False)
    return sum(1 for e in events if e["ph"] == "X")
