"""``poolside observe``: watch any program's parallel work from outside, and say what held it back.

    poolside observe [--json FILE] [--trace FILE] [--interval SECONDS] -- COMMAND [ARGS...]
    poolside observe --pid PID [...]

    argv ──► observe.Session.launch(COMMAND) (stdio untouched) or .attach(PID)
    main thread: wait for the program's end (Ctrl-C: the command's to handle; with --pid, it ends
                 the observation and leaves the process running)
    ──► record (the --json shape) ──► the verdict on stderr ──► --json, --trace, the history
    exit status: the command's own (with --pid: 0, or 130 after Ctrl-C)

Everything observe prints goes to stderr: the command's stdout stays its own.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

from ..inputs import printable
from ..log import get_logger
from ..words import observe as say
from ..words.units import human_bytes, human_duration
from .common import EXIT_INTERRUPTED, EXIT_OK, UsageError, positive_float, positive_int

log = get_logger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "observe", help="watch any program's processes and threads use the cores, and say what held it back",
        description="Run COMMAND (or attach to --pid) and sample its whole process tree until it ends: each "
                    "process's role (main, pool worker, helper), CPU, memory and threads, run-queue waits, the "
                    "GIL.  At the end, a verdict with numbers and a suggestion.  For your own program as it "
                    "is; to measure or choose a configuration for a plugin, use 'run' or 'compare'.",
        epilog="Example: poolside observe --json obs.json -- python my_pipeline.py --jobs 8")
    p.add_argument("--pid", type=positive_int, metavar="PID", help="attach to a running process instead")
    p.add_argument("--json", metavar="FILE", help="write the observation as JSON")
    p.add_argument("--trace", metavar="FILE", help="write a Perfetto / chrome://tracing trace")
    p.add_argument("--interval", type=positive_float, default=0.25, metavar="SECONDS",
                   help="seconds between samples (default 0.25)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")
    p.set_defaults(handler=cmd_observe)


def cmd_observe(ns: argparse.Namespace) -> int:
    from ..observe.session import ObserveError, Session

    command = list(ns.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if ns.pid is None and not command:
        raise UsageError("give a command to run after '--', or --pid PID")
    if ns.pid is not None and command:
        raise UsageError("give either a command or --pid, not both")
    if ns.interval < 0.05:
        raise UsageError(f"--interval must be at least 0.05 s, got {ns.interval:g}")
    try:
        if ns.pid is not None:
            session = Session.attach(ns.pid, interval_s=ns.interval)
        else:
            session = Session.launch(command, interval_s=ns.interval)
    except ObserveError as e:
        raise UsageError(str(e)) from None
    line = (f"observing {'process ' + str(ns.pid) if ns.pid else printable(' '.join(command))} "
            f"every {human_duration(ns.interval)}" + ("; Ctrl-C ends the observation, not the process" if ns.pid
                                                       else ""))
    interrupted = _wait(session, attached=ns.pid is not None, announce=lambda: _say(line))
    record = session.record()
    error = session.observer.error
    _report(record, interrupted, None if error is None else f"{type(error).__name__}: {error}")
    _write(ns, session, record)
    if ns.pid is not None:
        return EXIT_INTERRUPTED if interrupted else EXIT_OK
    return session.exit_code if session.exit_code is not None else EXIT_INTERRUPTED


def _wait(session: Any, *, attached: bool, announce: Callable[[], None]) -> bool:
    """Until the program ends; Ctrl-C ends an attached observation, and is the command's own otherwise.

    ``announce`` says what is observed once Ctrl-C is handled as it says, so that a
    Ctrl-C right after the line is never taken for the command's own interrupt.
    """
    if attached:
        try:
            announce()
            while not session.wait(0.2):
                pass
        except KeyboardInterrupt:
            session.stop()
            session.wait()
            return True
        return False
    # The terminal sends Ctrl-C to the command too: it decides, and its exit status is ours.
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        announce()
        session.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return False


def _report(record: dict[str, Any], interrupted: bool, session_error: str | None = None) -> None:
    verdict = record["verdict"]
    end = "observation stopped (the process goes on)" if interrupted else "ended"
    code = "" if record["exit_code"] is None else f", exit code {record['exit_code']}"
    _say(f"observe: {end} after {human_duration(record['wall_s'])}{code}; "
         f"{len(record['processes'])} processes")
    for p in record["processes"][:12]:
        busy = sum(1 for t in p["threads"] if t["cpu_s"] > 0.01)
        _say(f"  {p['pid']:>7}  {say.role_label(p['role'], p['pool']):<44} {human_duration(p['cpu_s']):>9} CPU  "
             f"{human_bytes(p['peak_rss_mb'] * 1e6):>10} peak  {len(p['threads'])} threads ({busy} busy)")
    if len(record["processes"]) > 12:
        _say(f"  ... and {len(record['processes']) - 12} more (--json has them all)")
    for pool in verdict["evidence"].get("pools", []):
        _say(f"  pool {say.pool_line(pool)}")
    unseen_cpu = say.unseen_children(verdict["evidence"].get("unseen_children_cpu_s", 0.0))
    if unseen_cpu:
        _say(f"  {unseen_cpu}")
    if session_error:
        _say(f"observe: sampling stopped early ({session_error}); what was seen until then follows")
    _say(f"verdict: {say.headline(verdict)}")
    _say(f"  {verdict['why']}")
    unseen = say.not_seen(verdict["evidence"].get("not_seen", []))
    if unseen:
        _say(f"  {unseen}")


def _write(ns: argparse.Namespace, session: Any, record: dict[str, Any]) -> None:
    from ..history import HistoryError
    from ..history.observations import record_observation
    from ..serialize import plain

    if ns.json:
        try:
            with open(ns.json, "w", encoding="utf-8") as f:
                json.dump(plain(record), f, indent=1, ensure_ascii=False)
        except OSError as e:
            _say(f"observe: --json {printable(ns.json)} cannot be written: {e.strerror or e}")
    if ns.trace:
        from ..observe.export import write_trace

        try:
            write_trace(ns.trace, session.observer)
        except OSError as e:
            _say(f"observe: --trace {printable(ns.trace)} cannot be written: {e.strerror or e}")
    try:
        run_id = record_observation(record, session.observer.series())
    except HistoryError as e:
        _say(f"observe: the observation is not in the history: {e}")
    else:
        if run_id is not None:
            _say(f"observe: kept in the history as #{run_id} (poolside history show {run_id})")


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError) as e:
        log.warning("standard error cannot be written: %s", e)
