"""How durations, sizes, counts, rates, statuses and table cells read, in the CLI and the window.

Each has one form everywhere; only layout (a column's width, a terminal's
colours) is left to the callers.
"""

from __future__ import annotations

import math
import time
from typing import Any

from poolside.records import STATUS_ORDER


def human_bytes(n: float | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; bytes below 1 KiB read as bytes; ``None`` (not measured) as ``"–"``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    n = float(n)
    if abs(n) < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024.0
        if abs(round(n, 1)) < 1024:  # as shown: 1023.96 KiB reads "1.0 MiB", not "1024.0 KiB"
            return f"{n:.1f} {unit}"
    return f"{n / 1024.0:.1f} PiB"


def human_duration(seconds: float | None) -> str:
    """A short duration: ``"850 µs"``, ``"12.3 ms"``, ``"4.20 s"``, ``"3:05"``, ``"1:02:03"``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = float(seconds)
    # Each unit is chosen by the rounded figure, so a boundary never reads "1000 µs" or "60.00 s".
    if round(s * 1e6) < 1000:
        return f"{s * 1e6:.0f} µs"
    if round(s * 1e3, 1) < 1000:
        return f"{s * 1e3:.1f} ms"
    if round(s, 2) < 60:
        return f"{s:.2f} s"
    return clock(s)


def clock(seconds: float) -> str:
    """``"m:ss"`` or ``"h:mm:ss"``."""
    total = int(round(seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(started: float | None, now: float | None = None) -> str:
    """A moment for people: ``"14:02"`` today, ``"Mon 14:02"`` this week, else ``"2026-11-03 14:02"``."""
    if not started:
        return "–"
    now = time.time() if now is None else now
    t = time.localtime(started)
    if now - started < 86_400 and time.localtime(now).tm_yday == t.tm_yday:
        return time.strftime("%H:%M", t)
    if now - started < 6 * 86_400:
        return time.strftime("%a %H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


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
