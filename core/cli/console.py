"""The terminal: every line the CLI writes, behind one lock, and the progress bar.

Formatting numbers for people happens here and nowhere else in the CLI.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import Any, TextIO

from ..engine.sampler import USS_MIN_RUN_S
from ..inputs import Expansion, display, printable


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
        label = "TIMED OUT" if str(o.status) == "timed_out" else "FAILED"
        self.err(f"{label} {one_line(display(o.item))}: {o.error}")

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
        rate = summary.items_per_s
        tail = f" {done:,}/{total:,}" if total is not None else f" {done:,}/{items.yielded:,}+"
        bad = done - counts.get("ok", 0)
        tail += f"  {rate:,.1f}/s  {summary.wall_s:.1f}s" + (f"  {bad:,} not ok" if bad else "")
        if total:
            left = (total - done) / rate if rate > 0 else None
            if left is not None and done:
                tail += f"  ETA {_duration(left)}"
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
        """A short block on where the run's time went (``poolside.engine.insights.Insights``)."""
        lines = [
            f"insights: start-up {_secs(ins.startup_s)}, first outcome {_secs(ins.first_outcome_s)}, "
            f"drain {_secs(ins.drain_s)}",
            f"  workers busy {ins.busy_share:.0%} of their time; CPU {ins.cpu_utilisation:.0%} of "
            f"{ins.cores} cores ({ins.cpu_s:.2f} s: this process {ins.cpu_user_s:.2f} user + "
            f"{ins.cpu_system_s:.2f} system, worker processes {ins.cpu_workers_s:.2f})",
            f"  memory: peak {_bytes(ins.peak_rss_bytes)} RSS; " + (
                f"USS {_bytes(ins.peak_uss_bytes)} at the peak, {_bytes(ins.end_uss_bytes)} at the end"
                if ins.peak_uss_bytes is not None or ins.end_uss_bytes is not None
                else f"USS not read (runs under {USS_MIN_RUN_S:g} s report RSS only)"),
        ]
        if ins.chunk_min is not None:
            lines.append(f"  chunks of {ins.chunk_min:,} / {ins.chunk_median:,.0f} / {ins.chunk_max:,} "
                         "items (min / median / max)"
                         + (f"; overhead {_secs(ins.overhead_per_item_s)} an item"
                            if ins.overhead_per_item_s is not None else ""))
        if ins.gil_bound:
            lines.append(f"  GIL: {ins.busy_threads:.1f} threads were busy on average but the process "
                         f"used {ins.process_cores:.1f} core; try processes")
        shares = sorted(w.share for w in ins.per_worker)
        if shares:
            lines.append(f"  per worker: busy {shares[0]:.0%} to {shares[-1]:.0%} of the run, "
                         f"{min(w.items for w in ins.per_worker):,} to "
                         f"{max(w.items for w in ins.per_worker):,} items")
        for line in lines:
            self.err(line)


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 2**20:,.1f} MB"


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


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    return _isatty(a) and _isatty(b)

