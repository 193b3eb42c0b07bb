"""How numbers, sizes, durations and values read in the window (no Qt here)."""

from __future__ import annotations

import math
from typing import Any

from poolside.records import STATUS_ORDER


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``; bytes below 1 KiB read as bytes."""
    n = float(n)
    if abs(n) < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024.0
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} PiB"  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    """A short duration: ``"850 µs"``, ``"12.3 ms"``, ``"4.20 s"``, ``"3:05"``, ``"1:02:03"``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = float(seconds)
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    if s < 60:
        return f"{s:.2f} s"
    return clock(s)


def clock(seconds: float) -> str:
    """``"m:ss"`` or ``"h:mm:ss"``."""
    total = int(round(seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def count(n: int) -> str:
    return f"{n:,}"


def rate(items_per_s: float) -> str:
    if items_per_s >= 100:
        return f"{items_per_s:,.0f}/s"
    if items_per_s >= 1:
        return f"{items_per_s:.1f}/s"
    return f"{items_per_s:.2f}/s"


def cell(value: Any, limit: int = 300) -> str:
    """A value as a table cell: floats to 6 significant digits, long text cut."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return str(value)
    text = value if isinstance(value, str) else repr(value) if isinstance(value, bytes) else str(value)
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text.replace("\n", " ⏎ ") if "\n" in text else text


#: The words people read, from the one table in poolside.records (Status.label).
STATUS_LABELS = {status.value: status.label for status in STATUS_ORDER}


def status_label(status: Any) -> str:
    key = str(status)
    return STATUS_LABELS.get(key, key)
