"""``poolside run DIR --watch``: the files in DIR, then every file written there later, until stopped.

    FolderWatch(DIR).items() ──► poolside.run(task, items, finite=False) ──► _Reporter, history (one run)
       (poolside.watch; skips what the history has ok for this job)

The watch is one run: the engine reads the watch's blocking input on its
reader thread, so each file runs as soon as it is written and the history
records each outcome as it comes.  Ctrl-C (or SIGTERM, SIGHUP) ends the watch:
no new file is taken, the files running finish, and the run ends with its
counts and the exit status of a run that went to its end (0 when every file
was ok).  The same signal again cancels what is still running, as it does for
any run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import PurePath
from typing import Any

from ..inputs import printable
from .common import UsageError
from .console import Console


def check_arguments(ns: argparse.Namespace) -> None:
    """--watch takes folders of the user's own, and a fresh job (not a resume, not the samples)."""
    if ns.resume:
        raise UsageError("--watch cannot be combined with --resume: a watch itself skips the files already done")
    if ns.samples:
        raise UsageError("--watch watches your own folders, not the bundled samples")


def folder_watch(spec: Any, prepared: Any, output: str | None, console: Console) -> Any:
    """The watch over the spec's folders, knowing what the history already has ok; UsageError if none."""
    from ..history import HistoryError
    from ..history.resume import done_items
    from ..watch import FolderWatch

    folders = [p for p in spec.paths if os.path.isdir(p)]
    if not folders:
        raise UsageError("--watch needs a folder to watch (the files named are not folders)")
    try:
        done = done_items(spec, prepared.task)
    except HistoryError as e:
        console.err(f"warning: the history cannot say which files are done already, all run: {e}")
        done = set()
    outputs: list[str | PurePath] = [v for v in prepared.task.kwargs.values() if isinstance(v, PurePath)]
    outputs += [*spec.exclude, *([output] if output else [])]
    patterns = spec.patterns or prepared.plugin.accepts
    watch = FolderWatch(folders, patterns=() if patterns == ("*",) else patterns, exclude=outputs, skip=done)
    files = [p for p in spec.paths if p not in folders]
    if files:
        console.err(f"note: only folders are watched; {len(files)} file(s) named are left out")
    shown = ", ".join(printable(f) for f in folders)
    console.err(f"watching {shown} for new files (Ctrl-C to stop: running files finish)")
    return watch


def watched(prepared: Any, watch: Any) -> Any:
    """``prepared`` with the watch's files as its items."""
    return dataclasses.replace(prepared, items=watch)


def stop_watching(watch: Any, console: Console, signal_name: str) -> None:
    """The first Ctrl-C (or stop signal) of a watch: no new file starts, running ones finish."""
    watch.stop()
    again = "Ctrl-C" if signal_name == "SIGINT" else f"{signal_name}"
    try:
        console.clear_progress()
        console.err(f"stopping the watch: running files finish ({again} again to cancel them)")
    except OSError:
        pass  # the terminal is gone (SIGHUP): the run still ends and records every file
