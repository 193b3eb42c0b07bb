"""The terminal: every line the CLI writes, behind one lock, and the progress bar.

Only the layout is here (one line each, the bar, escapes): the numbers, labels
and sentences come from ``poolside.words``, as in the window.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import Any, TextIO

from ..inputs import Expansion, display, printable
from ..records import Status
from ..words.runs import insight_sentences
from ..words.units import clock, count, rate


class Console:
    """Every terminal write, behind one lock: result lines, failures, the progress bar."""

    def __init__(self, out: TextIO, err: TextIO, *, quiet: bool, results_to_stdout: bool) -> None:
        self.out = out
        self.errs = err
        self.quiet = quiet
        self.results_to_stdout = results_to_stdout and not quiet
        self.tty = _isatty(err)
        self._lock = threading.Lock()
        self._bar_shown = False
        self._last_draw = 0.0

    def _clear(self) -> None:
        if self._bar_shown:
            self.errs.write("\r\x1b[K")
            self._bar_shown = False

    def clear_progress(self) -> None:
        with self._lock:
            self._clear()
            self.errs.flush()

    def err(self, line: str) -> None:
        with self._lock:
            self._clear()
            self.errs.write(printable(line) + "\n")
            self.errs.flush()

    def result(self, o: Any) -> None:
        if not self.results_to_stdout:
            return
        line = f"{one_line(display(o.item))}\t{one_line(_short(o.value))}\n"
        with self._lock:
            if self._bar_shown and _same_terminal(self.out, self.errs):
                self._clear()
                self.errs.flush()
            self.out.write(line)
            self.out.flush()

    def failure(self, o: Any) -> None:
        self.err(f"{Status(o.status).label.upper()} {one_line(display(o.item))}: {o.error}")

    def progress(self, summary: Any, items: Expansion) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1:
            return
        self._last_draw = now
        counts = summary.counts
        done = summary.total
        total = items.yielded if items.done else None
        width = shutil.get_terminal_size((80, 20)).columns
        per_s = summary.items_per_s
        tail = f" {count(done)}/{count(total)}" if total is not None else f" {count(done)}/{count(items.yielded)}+"
        bad = done - counts.get(Status.OK.value, 0)
        tail += f"  {rate(per_s)}  {clock(summary.wall_s)}" + (f"  {count(bad)} not ok" if bad else "")
        if total:
            left = (total - done) / per_s if per_s > 0 else None
            if left is not None and done:
                tail += f"  ETA {clock(left)}"
        bar_width = max(10, min(40, width - len(tail) - 4))
        fraction = done / total if total else 0.0
        filled = int(bar_width * fraction)
        if total is None:  # the total is not known yet: a bouncing block
            pos = int(now * 8) % bar_width
            bar = "-" * pos + "#" + "-" * (bar_width - pos - 1)
        else:
            bar = "#" * filled + "-" * (bar_width - filled)
        line = f"[{bar}]{tail}"[: max(1, width - 1)]
        with self._lock:
            self.errs.write("\r" + line + "\x1b[K")
            self.errs.flush()
            self._bar_shown = True


    def insights(self, ins: Any) -> None:
        """Where the run's time went (``poolside.engine.insights.Insights``), in the window's words."""
        lines = insight_sentences(ins, detail=True)
        if lines:
            self.err("insights:")
        for line in lines:
            self.err("  " + line)


# Characters that would end or split a line of output (a file may be named "a\nb"),
# shown escaped instead, as Python writes them: \n, \t, \x1b, \u2028.
_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F, 0x85]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def one_line(text: str) -> str:
    """``text`` with line breaks, tabs and other control characters escaped: one field of one line."""
    return text.translate(_ESCAPES)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "  ".join(f"{k}={display(v)}" for k, v in value.items())
    return display(value)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    return _isatty(a) and _isatty(b)

