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


def approx_duration(seconds: float | None) -> str:
    """A predicted duration, as coarse as a prediction is: ``"8.5 s"``, ``"45 s"``, ``"3 min 10 s"``, ``"2 h 5 min"``.

    Ten-second steps from one minute up and whole minutes from an hour: a
    forecast's range is wider than that, so finer figures would claim too much.
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = max(float(seconds), 0.0)
    if round(s, 1) < 10:
        return f"{s:.1f} s"
    if round(s) < 60:
        return f"{round(s)} s"
    if round(s / 10) * 10 < 3600:
        m, rest = divmod(int(round(s / 10)) * 10, 60)
        return f"{m} min {rest} s" if rest else f"{m} min"
    if round(s / 60) < 24 * 60:
        h, m = divmod(int(round(s / 60)), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(int(round(s / 3600)), 24)
    return f"{d} d {h} h" if h else f"{d} d"


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


def brief(value: Any, limit: int = 200, note: str = "") -> str:
    """A result as one short text: at most about ``limit`` characters and a note of its size.

    Never builds the whole text of a large value first: a 600 MB ``bytes``
    printed in full took 4.8 GB of memory and 40 s, to show what nobody reads
    in a terminal.  ``note`` ends the size note of a value that was cut.
    Bytes read as text (undecodable ones as ``\\xNN``), a dict as
    ``key=value`` pairs, as everywhere results are shown.
    """
    text, cut = _brief(value, limit)
    return text if cut is None else f"{text}… ({cut}{note})"


def _brief(value: Any, limit: int) -> tuple[str, str | None]:
    """``(head, what was cut)``; ``None`` when the head is the whole value."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            data = value if not isinstance(value, memoryview) else value.cast("B")
        except TypeError:  # a view that is not contiguous: its Python form, as any other value
            return _brief(value.tolist() if isinstance(value, memoryview) else value, limit)
        n = len(data)
        head = bytes(data[:limit]).decode("utf-8", "backslashreplace")
        return (head, f"{human_bytes(n)} of bytes in all") if n > limit else (head, None)
    if isinstance(value, str):
        if len(value) > limit:
            return value[:limit], f"{count(len(value))} characters in all"
        return value, None
    if isinstance(value, dict):
        return _brief_items(((f"{k}=", v) for k, v in value.items()), len(value), "  ", "", "",
                            "entries", limit)
    if isinstance(value, (list, tuple)):
        if isinstance(value, tuple):
            close = ",)" if len(value) == 1 else ")"
            return _brief_items((("", v) for v in value), len(value), ", ", "(", close, "items", limit)
        return _brief_items((("", v) for v in value), len(value), ", ", "[", "]", "items", limit)
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return text[:limit], f"{count(len(text))} characters in all"
    return text, None


def _brief_items(pairs: Any, n: int, sep: str, open_: str, close: str, noun: str,
                 limit: int) -> tuple[str, str | None]:
    parts: list[str] = []
    used = len(open_)
    top = sep == "  "  # a dict's values read as text; inside a list, as Python writes them
    for shown, (prefix, v) in enumerate(pairs):
        room = max(limit - used - len(prefix), 1)
        if top or isinstance(v, (bytes, bytearray, str, list, tuple, dict)) and len(v) > room:
            piece, cut = _brief(v, room)
        else:
            piece, cut = repr(v), None
            if len(piece) > room:
                piece, cut = piece[:room], "cut"
        parts.append(prefix + piece)
        used += len(prefix) + len(piece) + len(sep)
        if cut is not None or used > limit:
            return open_ + sep.join(parts), f"{count(n)} {noun} in all, {count(shown + 1)} shown"
    return open_ + sep.join(parts) + close, None
