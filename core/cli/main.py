"""The ``poolside`` command: run a plugin over files from a terminal, list plugins, show the machine.

    poolside run PATHS... --plugin NAME|FILE.py:FUNCTION [--param K=V]... [options]
    poolside compare PATHS... --plugin NAME [--budget S] [--backends a,b] [--workers 1,2] [--json FILE]
    poolside history [show ID | prune]
    poolside plugins [FILE.py...]
    poolside info
    poolside samples DEST
    poolside -v|-vv COMMAND ...   (the engine's log on stderr: info, debug)
    poolside                      (no arguments: the window, through poolside.gui.launcher)
    poolside PATH... | JOB.toml   (the window with those files and folders, or that job)

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
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..inputs import printable
from ..log import get_logger
from ..records import describe_error
from . import compare, history, listing, observe, run, samples
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG, Parser, UsageError, silence_stdout

# Each command is a module with add_parser(s)(sub); adding a command is one module and one line here.
_COMMANDS = (run.add_parser, compare.add_parser, observe.add_parser, history.add_parser, listing.add_parsers,
             samples.add_parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``poolside`` command line; return the exit status.

    As the command itself (``argv`` None), it may end the process here instead
    of returning: see :func:`_end_process`.
    """
    if argv is None:
        _hold_standard_fds()
    code = _main(argv)
    if argv is None:
        _end_process(code)
    return code


def command_names() -> tuple[str, ...]:
    """The commands, as the parser knows them: what the launcher tells apart from paths."""
    return tuple(_build_parser()[1])


def _hold_standard_fds() -> None:
    """Point a closed stdin, stdout or stderr at the null device.

    Started with fd 2 closed (``2>&-``), the next file opened would become fd 2:
    the history's database, a worker's pipe; and whatever writes to "stderr",
    a worker's traceback, would write into it.  Python has already made
    ``sys.stderr`` None for such an fd, which tells the console it is gone.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError as e:
                get_logger(__name__).warning("cannot open %s for the closed fd %d: %s", os.devnull, fd, e)
                return
            if null != fd:  # the lowest free fd: it is this one unless a lower one was closed too
                os.dup2(null, fd)
                os.close(null)


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _build_parser()
    if not args:  # the window is poolside.gui.launcher's to open; here, say what there is
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        ns = parser.parse_args(args)
        # The ``poolside`` command itself (no argv given) ends when the command
        # does: what it started for later runs may end at once.  A caller of
        # main([...]) in its own process (the tests) keeps them.
        ns.one_shot = argv is None
        if ns.verbose:
            from ..log import configure

            configure(logging.INFO if ns.verbose == 1 else logging.DEBUG)
        return ns.handler(ns)
    except UsageError as e:
        _say(f"{PROG}: error: {printable(str(e))}")
        command = f"{args[0]} " if args[0] in commands else ""
        _say(f"Try '{PROG} {command}--help' for more.")
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    except KeyboardInterrupt:  # before a job started (loading plugins, say)
        _say(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # "poolside info | head": the reader left before the end
        silence_stdout()
        return EXIT_FAILED  # what it was given is not all there was: not a success
    except Exception as e:  # a bug of ours: one line, the traceback on request
        if os.environ.get("POOLSIDE_DEBUG"):
            raise
        _say(f"{PROG}: internal error: {type(e).__name__}: {printable(describe_error(e))} "
             "(set POOLSIDE_DEBUG=1 to see the traceback)")
        return EXIT_FAILED


def _end_process(code: int) -> None:
    """End the command now if a thread that is not ours would keep the process alive.

    A task run in this process (sequential, threads) may start a thread that is
    not a daemon and never ends; Python waits for such threads at exit, so the
    command would hang after its summary, forever.  The run and its history are
    over by now: the exit handlers run, the output is flushed, and the process
    ends with the run's exit status whatever such a thread is doing.
    """
    import threading

    joined_at_exit = _executor_threads()
    lingering = [t for t in threading.enumerate()
                 if t is not threading.main_thread() and t.is_alive() and (not t.daemon or t in joined_at_exit)]
    if not lingering:
        return  # the ordinary way out, through the interpreter's own exit
    names = ", ".join(t.name for t in lingering[:3]) + (" ..." if len(lingering) > 3 else "")
    get_logger(__name__).warning("ending the process although %d threads still run: %s", len(lingering), names)
    _say(f"{PROG}: note: threads still run a task or what it started ({printable(names)}); "
         "they end with the command")
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError) as e:  # nothing can be said: the exit status still is
            get_logger(__name__).warning("flushing %s at exit failed: %s", getattr(stream, "name", "a stream"), e)
    logging.shutdown()
    os._exit(code)


def _executor_threads() -> set[Any]:
    """The threads ``concurrent.futures`` joins at exit, daemons or not.

    A ``ThreadPoolExecutor``'s workers inherit the daemon flag of the thread
    that started them (the asyncio backend's loop thread is a daemon), but
    the module joins every one of them at interpreter exit, so one stuck in a
    timed-out task hangs the exit just as a non-daemon thread does.  The set
    is the module's own registry (``_threads_queues``, a CPython detail, read
    only if the module is loaded and has it).
    """
    module = sys.modules.get("concurrent.futures.thread")
    registry = getattr(module, "_threads_queues", None)
    try:
        return set(registry.keys()) if registry is not None else set()
    except (AttributeError, TypeError, RuntimeError):  # another Python's layout: the non-daemon check stands
        return set()


def _say(line: str) -> None:
    """A line on stderr, if there is one to write to (never on stdout: with ``sys.stderr``
    None, ``print(file=sys.stderr)`` would write there)."""
    if sys.stderr is None:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError) as e:
        get_logger(__name__).warning("standard error cannot be written: %s", e)


_VERBOSE = ("--verbose", "-v")
_VERBOSE_HELP = "log what the engine does on stderr (workers, retries, run start and end); -vv for more"


def _build_parser() -> tuple[Parser, list[str]]:
    parser = Parser(
        prog=PROG,
        description="Run one task over many files on threads or processes.  "
                    "Without arguments, opens the window; '%(prog)s PATH...' opens it with those "
                    "files and folders, '%(prog)s JOB.toml' with that job; '%(prog)s --install-desktop' "
                    "adds the window to the desktop's application menu (Linux).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(*_VERBOSE, action="count", default=0, help=_VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in _COMMANDS:
        add(sub)
    commands = list(sub.choices)
    for command in sub.choices.values():  # -v after the command too; SUPPRESS keeps one given before
        command.add_argument(*_VERBOSE, action="count", default=argparse.SUPPRESS, help=_VERBOSE_HELP)

    def no_command(ns: object) -> int:
        raise UsageError(f"choose a command: {', '.join(commands)}")

    parser.set_defaults(handler=no_command)
    return parser, commands


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("poolside")
    except Exception as e:  # a checkout run without being installed: the text says so
        from ..log import get_logger

        get_logger(__name__).debug("poolside's version is unknown: %s", e)
        return "(not installed)"

