"""Write outcomes to CSV or JSON (no Qt here).

CSV has one column per value field, like the table; JSON keeps each value as
it was (anything JSON cannot hold becomes its ``str``).  Both carry the error
type, message and traceback of the items that did not end ``ok``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poolside.records import Outcome, Summary

FIXED_HEAD = ("index", "item", "status")
FIXED_TAIL = ("elapsed_s", "worker", "started_s", "error_type", "error_message", "traceback")


def _item(item: Any) -> Any:
    if isinstance(item, (str, int, float, bool)) or item is None:
        return item
    if isinstance(item, os.PathLike):
        return os.fspath(item)
    return str(item)


def csv_columns(value_keys: Sequence[str]) -> list[str]:
    fixed = set(FIXED_HEAD) | set(FIXED_TAIL)
    fields = [f"value.{k}" if k in fixed else k for k in value_keys]
    return [*FIXED_HEAD, *fields, *FIXED_TAIL]


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str, ensure_ascii=False)
    return v


def write_csv(path: str | os.PathLike, outcomes: Iterable[Outcome], value_keys: Sequence[str]) -> int:
    """Write one row per outcome; return the number of rows."""
    keys = list(value_keys)
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(csv_columns(keys))
        for o in outcomes:
            v = o.value
            if isinstance(v, dict):
                fields = [_cell(v.get(k)) for k in keys]
            else:
                fields = [_cell(v) if k == "value" else "" for k in keys]
            e = o.error
            w.writerow(
                [
                    o.index,
                    _item(o.item),
                    str(o.status),
                    *fields,
                    f"{o.elapsed_s:.6f}",
                    "" if o.worker is None else o.worker,
                    "" if o.started_s is None else f"{o.started_s:.6f}",
                    "" if e is None else e.type,
                    "" if e is None else e.message,
                    "" if e is None else e.traceback,
                ]
            )
            n += 1
    return n


def outcome_record(o: Outcome) -> dict[str, Any]:
    e = o.error
    return {
        "index": o.index,
        "item": _item(o.item),
        "status": str(o.status),
        "value": o.value,
        "elapsed_s": o.elapsed_s,
        "worker": o.worker,
        "started_s": o.started_s,
        "error": None if e is None else {"type": e.type, "message": e.message, "traceback": e.traceback},
    }


def write_json(path: str | os.PathLike, outcomes: Iterable[Outcome], summary: Summary | None = None) -> int:
    """Write ``{"summary": …, "results": [...]}``; return the number of results."""
    records = [outcome_record(o) for o in outcomes]
    doc: dict[str, Any] = {"results": records}
    if summary is not None:
        doc = {"summary": summary_record(summary), **doc}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, default=str, ensure_ascii=False, indent=1)
    return len(records)


def summary_record(s: Summary) -> dict[str, Any]:
    return {
        "backend": s.backend,
        "workers": s.workers,
        "counts": dict(s.counts),
        "wall_s": s.wall_s,
        "cpu_s": s.cpu_s,
        "items_per_s": s.items_per_s,
        "input_error": s.input_error,
    }


def write(
    path: str | os.PathLike, outcomes: Iterable[Outcome], value_keys: Sequence[str], summary: Summary | None = None
) -> int:
    """CSV or JSON by the file's extension (``.json``: JSON, anything else: CSV)."""
    if Path(path).suffix.lower() == ".json":
        return write_json(path, outcomes, summary)
    return write_csv(path, outcomes, value_keys)
