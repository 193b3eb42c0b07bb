"""The terminal: every line the CLI writes, behind one lock, and the progress bar.

Only the layout is here (one line each, the bar, escapes): the numbers, labels
and sentences come from ``poolside.words``, as in the window.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import Any, TextIO

from ..inputs import Expansion, display, printable
from ..log import get_logger
from ..records import Status
from ..words.runs import insight_sentences
from ..words.units import brief, clock, count, rate

log = get_logger(__name__)


class Console:
    """Every terminal write, behind one lock: result lines, failures, the progress bar.

    No write raises.  Standard output that cannot be written (a full disk, a
    reader that left the pipe, a closed fd) is *lost*: ``out_error`` says why,
    nothing more is written to it, and the command's exit status must say so.
    Standard error that cannot be written is lost the same way (``err_error``):
    nothing can be said any more, but the exit status still tells the truth.
    """

    def __init__(self, out: TextIO | None, err: TextIO | None, *, quiet: bool, results_to_stdout: bool) -> None:
        self.out = out
        self.errs = err
        self.quiet = quiet
        self.results_to_stdout = results_to_stdout and not quiet
        self.tty = _isatty(err)
        self._lock = threading.Lock()
        self._bar_shown = False
        self._last_draw = 0.0
        #: Why standard output could not be written, once it could not (then nothing more is).
        self.out_error: str | None = None
        #: The same for standard error.
        self.err_error: str | None = None if err is not None else "standard error is closed"

    def _clear(self) -> None:
        if self._bar_shown:
            self._bar_shown = False
            self._write_err("\r\x1b[K")

    def _write_err(self, text: str) -> None:
        """Write and flush ``text`` on stderr; the caller holds the lock."""
        if self.err_error is not None or self.errs is None:
            return
        try:
            self.errs.write(text)
            self.errs.flush()
        except (OSError, ValueError) as e:  # ValueError: the stream was closed
            self.err_error = _why(e)
            self._bar_shown = False
            _drop_stream(self.errs)
            # Nowhere left to say it but the log (a file, if one was configured).
            log.warning("standard error cannot be written: %s", self.err_error)

    def clear_progress(self) -> None:
        with self._lock:
            self._clear()

    def err(self, line: str) -> None:
        with self._lock:
            self._clear()
            self._write_err(printable(line) + "\n")

    def result(self, o: Any) -> None:
        if not self.results_to_stdout:
            return
        self._write_out(f"{one_line(display(o.item))}\t{one_line(_short(o.value))}\n")

    def line(self, text: str) -> None:
        """A line on standard output (a preview's): lost, never raised, as result lines are."""
        self._write_out(printable(text) + "\n")

    def _write_out(self, line: str) -> None:
        if self.out_error is not None:
            return
        if self.out is None:  # the command started with fd 1 closed: a result had nowhere to go
            self.out_error = "standard output is closed"
            return
        with self._lock:
            if self._bar_shown and _same_terminal(self.out, self.errs):
                self._clear()
            try:
                self.out.write(line)
                self.out.flush()
            except (OSError, ValueError) as e:
                self.out_error = _why(e)
                _drop_stream(self.out)
                log.warning("standard output cannot be written: %s", self.out_error)

    def failure(self, o: Any) -> None:
        self.err(f"{Status(o.status).label.upper()} {one_line(display(o.item))}: {o.error}")

    def progress(self, summary: Any, items: Expansion, forecast_s: float | None = None) -> None:
        """The bar; ``forecast_s``: the history's prediction for the whole run, which the ETA starts from."""
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
            from ..eta import eta_s

            left, predicted = eta_s(done, total, summary.wall_s, forecast_s)
            if left is not None:
                tail += f"  ETA {clock(left)}" + (" (predicted)" if predicted else "")
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
            self._write_err("\r" + line + "\x1b[K")
            self._bar_shown = self.err_error is None


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


# Characters of a result shown on its line: enough to recognise it; --output
# writes every value in full.
RESULT_CHARS = 200


def _short(value: Any) -> str:
    return printable(brief(value, RESULT_CHARS, "; the full value is written by --output"))


def _why(e: BaseException) -> str:
    if isinstance(e, BrokenPipeError):
        return "its reader closed the pipe"
    if isinstance(e, ValueError):
        return "it is closed"
    return e.strerror or str(e) if isinstance(e, OSError) else str(e)


def _drop_stream(stream: TextIO) -> None:
    """Point a stream that failed at /dev/null, and drop what it holds.

    Python flushes ``sys.stdout`` and ``sys.stderr`` as it exits; the lines
    still in their buffers would fail again there, and turn the exit status
    into 120 with a complaint nobody can read.
    """
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    if stream in (sys.stdout, sys.__stdout__, sys.stderr, sys.__stderr__):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)
        except OSError as e:
            log.warning("could not point the failed stream at %s: %s", os.devnull, e)
    try:
        stream.flush()  # now into /dev/null: the buffer is emptied
    except (OSError, ValueError) as e:
        log.debug("dropping what the failed stream held: %s", e)


def _isatty(stream: TextIO | None) -> bool:
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _same_terminal(a: TextIO | None, b: TextIO | None) -> bool:
    return _isatty(a) and _isatty(b)

