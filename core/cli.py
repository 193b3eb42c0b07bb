"""The ``poolside`` command: run a plugin over files from a terminal, list plugins, show the machine.

    poolside run PATHS... --plugin NAME|FILE.py:FUNCTION [--param K=V]... [options]
    poolside plugins [FILE.py...]
    poolside info
    poolside                      (no arguments: the window, through poolside.gui.launcher)

How ``run`` flows::

    argv --parse--> get_plugin --bind(--param)--> task      any problem so far is a
                    expand(PATHS) --------------> items     usage error: exit 2,
                                                            one clear line
    poolside.run(task, items, on_outcomes=...) --engine thread--> _Reporter.take(batch)
         |                                                     +- --output: a JSONL/CSV
         |                                                     |  record per item, flushed
         |                                                     |  per batch
         |                                                     +- stdout: "item  value" lines
         |                                                     +- stderr: failures
    main thread: job.wait(0.1) in a loop, redrawing the progress bar (a TTY only);
                 Ctrl-C -> job.cancel(), wait, exit 130
    summary line -> stderr; exit 0 if every item is ok, else 1

Outcomes arrive through ``on_outcomes`` rather than by iterating the job, so
that after a Ctrl-C the engine still delivers every item's outcome (the
cancelled ones too) to the output file while the main thread waits.

Nothing here prints a traceback for a mistake of the user's: a usage error is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, TextIO

from .inputs import Expansion, InputUsageError, display, expand, printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PROG = "poolside"
# Enough failures on the terminal to see what is going on; all of them go to --output.
_MAX_FAILURE_LINES = 50


class UsageError(Exception):
    """A mistake in how the command was called: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and sys.exit(2)
        raise UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``poolside`` command line; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    if not args:  # the window is poolside.gui.launcher's to open; here, say what there is
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        ns = parser.parse_args(args)
        return ns.handler(ns)
    except UsageError as e:
        print(f"{PROG}: error: {printable(str(e))}", file=sys.stderr)
        print(f"Try '{PROG} {_subcommand(args)}--help' for more.", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    except KeyboardInterrupt:  # before a job started (loading plugins, say)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # "poolside run ... | head": the reader left
        _silence_stdout()
        return EXIT_OK
    except Exception as e:  # a bug of ours: one line, the traceback on request
        if os.environ.get("POOLSIDE_DEBUG"):
            raise
        print(f"{PROG}: internal error: {type(e).__name__}: {printable(str(e))} "
              "(set POOLSIDE_DEBUG=1 to see the traceback)", file=sys.stderr)
        return EXIT_FAILED


def _subcommand(args: list[str]) -> str:
    return f"{args[0]} " if args and args[0] in ("run", "plugins", "info") else ""


# -- the parser ---------------------------------------------------------------

def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Run one task over many files on threads or processes.  "
                    "Without arguments, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run", help="run a plugin over files",
        description="Run a plugin over files and folders.  Each item ends ok, failed, "
                    "timed_out or cancelled; exit status 0 when every item is ok, 1 when "
                    "any is not, 2 for a usage error, 130 after Ctrl-C.",
        epilog="Example: poolside run resources/samples --recursive --plugin thumbnail "
               "--param size=128 --output thumbs.csv")
    run.add_argument("paths", nargs="*", metavar="PATH", help="files, and folders with --recursive")
    run.add_argument("--plugin", "-p", required=True, metavar="NAME|FILE.py:FUNCTION",
                     help="a plugin name (see 'poolside plugins') or a function in a Python file")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a plugin setting; repeat for several")
    run.add_argument("--backend", "-b", default="processes", metavar="NAME",
                     help="where items run (default: processes; see 'poolside info')")
    run.add_argument("--workers", "-w", type=_positive_int, metavar="N",
                     help="how many workers (default: chosen for the backend and the plugin)")
    run.add_argument("--chunk-size", type=_chunk_size, default="auto", metavar="N|auto",
                     help="items sent to a worker at a time (default: auto)")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="per item; an item running longer ends timed_out")
    run.add_argument("--ordered", action="store_true",
                     help="report outcomes in input order (default: as they finish)")
    run.add_argument("--recursive", "-r", action="store_true", help="walk into folders")
    run.add_argument("--glob", "-g", action="append", default=[], metavar="PATTERN",
                     help="only files in folders whose names match (repeatable; "
                          "default: the plugin's own patterns; '*' for every file)")
    run.add_argument("--output", "-o", metavar="FILE.jsonl|FILE.csv",
                     help="write a record per item as it finishes")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print no line per item, only failures and the summary")
    run.set_defaults(handler=_cmd_run)

    plugins = sub.add_parser("plugins", help="list the plugins and their parameters",
                             description="List the built-in and installed plugins, and "
                                         "those in the given Python files.")
    plugins.add_argument("files", nargs="*", metavar="FILE.py", help="also list these files' plugins")
    plugins.set_defaults(handler=_cmd_plugins)

    info = sub.add_parser("info", help="show cores, CPU and default workers per backend")
    info.set_defaults(handler=_cmd_info)
    parser.set_defaults(handler=lambda ns: _usage_no_command(parser))
    return parser


def _usage_no_command(parser: argparse.ArgumentParser) -> int:
    raise UsageError("choose a command: run, plugins or info")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def _chunk_size(text: str) -> int | str:
    return "auto" if text.strip().lower() == "auto" else _positive_int(text)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("poolside")
    except Exception:
        return "(not installed)"


# -- run ----------------------------------------------------------------------

def _cmd_run(ns: argparse.Namespace) -> int:
    from . import backend_names, run
    from .backends import get_backend
    from .plugins import ParamError, PluginError, get_plugin

    if ns.backend not in backend_names():
        raise UsageError(f"unknown backend {ns.backend!r}; choose one of: "
                         f"{', '.join(backend_names())}")
    try:
        get_backend(ns.backend)  # importable? (an optional package may be missing)
    except ValueError as e:
        raise UsageError(str(e)) from None
    values = _parse_params(ns.param)
    try:
        plugin = get_plugin(ns.plugin)
        task = plugin.bind(values)
    except (PluginError, ParamError) as e:
        raise UsageError(str(e)) from None
    if not ns.paths:
        raise UsageError("no input: give the files or folders to run over "
                         "(try resources/samples --recursive)")
    patterns = tuple(ns.glob) or plugin.accepts
    if patterns == ("*",):
        patterns = ()
    # Never walk into the plugin's own output folders (they fill up as it
    # runs), nor read the record file being written.
    outputs = [v for v in task.kwargs.values() if isinstance(v, PurePath)]
    if ns.output:
        outputs.append(Path(ns.output))
    try:
        items = expand(ns.paths, recursive=ns.recursive, patterns=patterns, exclude=outputs)
    except InputUsageError as e:
        raise UsageError(str(e)) from None

    recorder = _open_recorder(ns.output, plugin.columns) if ns.output else None
    console = _Console(sys.stdout, sys.stderr, quiet=ns.quiet,
                       results_to_stdout=recorder is None)
    reporter = _Reporter(console, recorder)
    try:
        try:
            job = run(task, items, backend=ns.backend, workers=ns.workers, timeout=ns.timeout,
                      ordered=ns.ordered, chunk_size=ns.chunk_size, bound=plugin.bound,
                      on_outcomes=reporter.take, finite=True)  # a walk ends: Ctrl-C records every file
        except ValueError as e:  # an unavailable backend, say
            raise UsageError(str(e)) from None
        reporter.cancel = job.cancel
        interrupted = _wait(job, console, items)
        summary = job.summary
    finally:
        if recorder is not None:
            recorder.close()
    console.clear_progress()
    note = items.skipped_note()
    if note:
        console.err(f"note: {note}")
    if summary.input_error:
        console.err(f"error: reading the input failed: {summary.input_error}")
    if summary.total == 0 and not interrupted:
        console.err("note: no items to run" + (" (every file was skipped)" if note else ""))
    if reporter.failures_hidden:
        console.err(f"note: {reporter.failures_hidden} more failures not shown"
                    + (f"; all are in {ns.output}" if ns.output else "; use --output to see all"))
    if reporter.write_error:
        console.err(f"error: writing {ns.output} failed: {reporter.write_error}; job cancelled")
    console.err(summary.line())
    if interrupted:
        return EXIT_INTERRUPTED
    bad = summary.total - summary.counts.get("ok", 0)
    return EXIT_FAILED if bad or summary.input_error or reporter.write_error else EXIT_OK


def _parse_params(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE, e.g. --param size=128")
        if key in values:
            raise UsageError(f"--param {key!r} is given twice")
        values[key] = value
    return values


def _wait(job: Any, console: _Console, items: Expansion) -> bool:
    """Wait for ``job``, drawing progress; return True if Ctrl-C stopped it."""
    try:
        while not job.wait(0.1):
            console.progress(job.summary, items)
        return False
    except KeyboardInterrupt:
        console.clear_progress()
        console.err("interrupted: cancelling (Ctrl-C again to stop waiting)")
        job.cancel()
        try:
            job.wait()
        except KeyboardInterrupt:
            pass
        return True


class _Reporter:
    """Takes outcome batches on the engine's thread: records, result lines, failures."""

    def __init__(self, console: _Console, recorder: _Recorder | None) -> None:
        self.console = console
        self.recorder = recorder
        self.failures_shown = 0
        self.failures_hidden = 0
        self.write_error: str | None = None
        self.cancel: Any = None

    def take(self, batch: list) -> None:
        # Must not raise: an exception here would be the engine's failure.
        try:
            if self.recorder is not None and self.write_error is None:
                try:
                    self.recorder.write(batch)
                except (OSError, ValueError) as e:
                    self.write_error = str(e)
                    if self.cancel is not None:
                        self.cancel()
            for o in batch:
                status = str(o.status)
                if status == "ok":
                    self.console.result(o)
                elif status != "cancelled":
                    if self.failures_shown < _MAX_FAILURE_LINES:
                        self.failures_shown += 1
                        self.console.failure(o)
                    else:
                        self.failures_hidden += 1
        except BrokenPipeError:
            _silence_stdout()
            self.console.quiet = True
        except Exception as e:
            self.console.err(f"error: reporting outcomes: {type(e).__name__}: {e}")


# -- records ------------------------------------------------------------------

_FIELDS = ("index", "item", "status", "value", "error", "elapsed_s", "worker")


def _open_recorder(path: str, columns: tuple[str, ...]) -> _Recorder:
    lower = path.lower()
    if lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        kind = _JsonLines
    elif lower.endswith(".csv"):
        kind = _Csv
    else:
        raise UsageError(f"--output {path!r}: the name must end in .jsonl or .csv")
    try:
        stream = open(path, "w", encoding="utf-8", newline="")
    except OSError as e:
        raise UsageError(f"--output {path!r}: cannot write it: {e.strerror or e}") from None
    return kind(stream, columns)


class _Recorder:
    """One record per outcome, flushed after every batch: a crash loses no finished record."""

    def __init__(self, stream: TextIO, columns: tuple[str, ...]) -> None:
        self.stream = stream
        self.columns = columns
        self.count = 0

    def write(self, batch: list) -> None:
        for o in batch:
            self._write(o)
            self.count += 1
        self.stream.flush()

    def _write(self, outcome: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        try:
            self.stream.close()
        except OSError:
            pass


def _record(o: Any) -> dict[str, Any]:
    return {
        "index": o.index,
        "item": display(o.item),
        "status": str(o.status),
        "value": _plain(o.value),
        "error": printable(str(o.error)) if o.error is not None else None,
        "elapsed_s": round(o.elapsed_s, 6),
        "worker": o.worker,
    }


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data: paths and other objects as text, no surrogates."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return display(value)


class _JsonLines(_Recorder):
    def _write(self, outcome: Any) -> None:
        self.stream.write(json.dumps(_record(outcome), ensure_ascii=False) + "\n")


class _Csv(_Recorder):
    """CSV with a column per field of a dict value, as a table shows them.

    The columns are the plugin's declared ones, else the keys of the first
    dict value seen (known after the first record: a CSV header cannot wait).
    Keys beyond those go, as JSON, into the ``value`` column.
    """

    def __init__(self, stream: TextIO, columns: tuple[str, ...]) -> None:
        super().__init__(stream, columns)
        self.writer = csv.writer(stream)
        self.header: list[str] | None = None

    def _write(self, outcome: Any) -> None:
        record = _record(outcome)
        value = record["value"]
        if self.header is None:
            columns = list(self.columns)
            if not columns and isinstance(value, dict):
                columns = list(value)
            columns = [c for c in columns if c not in _FIELDS]
            self.columns = tuple(columns)
            self.header = [*_FIELDS, *columns]
            self.writer.writerow(self.header)
        row = dict(record)
        if isinstance(value, dict) and self.columns:
            rest = {k: v for k, v in value.items() if k not in self.columns}
            for k in self.columns:
                row[k] = value.get(k)
            row["value"] = json.dumps(rest, ensure_ascii=False) if rest else None
        elif isinstance(value, (dict, list)):
            row["value"] = json.dumps(value, ensure_ascii=False)
        self.writer.writerow(["" if row.get(c) is None else row.get(c) for c in self.header])


# -- the terminal -------------------------------------------------------------

class _Console:
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
        line = f"{display(o.item)}\t{_short(o.value)}\n"
        with self._lock:
            if self._bar_shown and _same_terminal(self.out, self.errs):
                self._clear()
                self.errs.flush()
            self.out.write(line)
            self.out.flush()

    def failure(self, o: Any) -> None:
        label = "TIMED OUT" if str(o.status) == "timed_out" else "FAILED"
        self.err(f"{label} {display(o.item)}: {o.error}")

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


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would complain about the closed pipe.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


# -- plugins, info ------------------------------------------------------------

def _cmd_plugins(ns: argparse.Namespace) -> int:
    from .plugins import PluginError, discover, load_plugin_file

    plugins, errors = discover()
    for file in ns.files:
        try:
            found, errs = load_plugin_file(file)
        except PluginError as e:
            found, errs = [], [e]
        plugins += found
        errors += errs
    out = sys.stdout
    for p in plugins:
        accepts = ", ".join(p.accepts) if p.accepts else "any file"
        out.write(f"{p.name}  [{p.bound}-bound; {accepts}]\n")
        out.write(f"    {p.description}\n")
        if p.source != "built-in":
            out.write(f"    from {printable(p.source)}\n")
        for param in p.params:
            out.write(f"    --param {param.name}=...  {param.describe()}\n")
            if param.help:
                out.write(f"        {param.help}\n")
        out.write("\n")
    for e in errors:
        out.write(f"broken: {printable(str(e))}\n")
    out.flush()
    return EXIT_FAILED if errors and ns.files else EXIT_OK


def _cmd_info(ns: argparse.Namespace) -> int:
    from . import backend_info, default_workers, system_info

    info = system_info()
    out = sys.stdout
    out.write(f"CPU             {info.cpu_model}\n")
    out.write(f"logical cores   {info.logical_cores}\n")
    out.write(f"physical cores  {info.physical_cores}\n")
    out.write(f"usable cores    {info.usable_cores}\n")
    out.write(f"memory          {info.memory_bytes / 2**30:.1f} GiB\n")
    out.write(f"platform        {info.platform}\n")
    out.write(f"python          {sys.version.split()[0]}\n\n")
    out.write("default workers per backend, for cpu / io / mixed-bound plugins:\n")
    infos = backend_info()
    width = max((len(b.name) for b in infos), default=10) + 2
    for b in infos:
        if b.available:
            counts = " / ".join(str(default_workers(b.name, bound)) for bound in ("cpu", "io", "mixed"))
            out.write(f"  {b.name:<{width}}{counts:<14}{b.label}\n")
        else:
            out.write(f"  {b.name:<{width}}{'-':<14}not available: {b.reason}\n")
    out.flush()
    return EXIT_OK
