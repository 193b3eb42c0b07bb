"""``poolside history``: past runs and studies, newest first; one in detail; pruning.

    poolside history [--json] [--limit N]
    poolside history show ID|last [--json]
    poolside history prune [--max-mb MB] [--keep N] [--older-than DAYS]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from typing import Any

from ..history import store
from ..inputs import printable
from ..records import STATUS_ORDER, Status
from ..words import observe as observe_words
from ..words.configs import config_label
from ..words.runs import RUN_STATES, run_state
from ..words.units import count, human_bytes, human_duration, status_label, when
from .common import EXIT_OK, UsageError, positive_float, positive_int


def add_parser(sub: Any) -> None:
    h = sub.add_parser("history", help="past runs and studies (resume one with 'poolside run --resume ID')",
                       description="Runs and studies recorded in the history database, newest first.  "
                                   "POOLSIDE_HISTORY=off stops recording; POOLSIDE_HOME moves the database.")
    h.add_argument("--json", action="store_true", help="print JSON")
    h.add_argument("--limit", type=positive_int, default=30, metavar="N", help="how many (default 30)")
    actions = h.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="one run or study in detail")
    show.add_argument("run", metavar="ID|last")
    show.add_argument("--json", action="store_true", help="print JSON")
    prune = actions.add_parser("prune", help="delete old runs")
    prune.add_argument("--max-mb", type=positive_float, metavar="MB",
                       help=f"shrink to this size (default: the cap, {store.DEFAULT_MAX_MB:g} MB, "
                            "or POOLSIDE_HISTORY_MAX_MB)")
    prune.add_argument("--keep", type=positive_int, metavar="N", help="keep only the newest N")
    prune.add_argument("--older-than", type=positive_float, metavar="DAYS", help="delete runs older than this")
    h.set_defaults(handler=cmd_history)


def cmd_history(ns: argparse.Namespace) -> int:
    try:
        conn = store.connect()
    except store.HistoryError as e:
        raise UsageError(str(e)) from None
    try:
        if ns.action == "show":
            return _show(conn, ns.run, ns.json)
        if ns.action == "prune":
            limit = int(ns.max_mb * 1e6) if ns.max_mb else None
            if limit is None and ns.keep is None and ns.older_than is None:
                limit = store.max_bytes()
            n = store.prune(conn, limit_bytes=limit, keep=ns.keep,
                            older_than_s=None if ns.older_than is None else ns.older_than * 86400)
            print(f"pruned {count(n)} run{'s' if n != 1 else ''}; the history holds "
                  f"{human_bytes(store.live_bytes(conn))}", file=sys.stderr)
            return EXIT_OK
        runs = store.list_runs(conn, ns.limit)
    except sqlite3.DatabaseError as e:  # damaged past what connect() reads: said, never a traceback
        raise UsageError(f"the history at {store.db_path()} cannot be read: {e}") from None
    finally:
        conn.close()
    if ns.json:
        print(json.dumps(runs, indent=1))
        return EXIT_OK
    if not runs:
        print("no runs recorded yet", file=sys.stderr)
        return EXIT_OK
    for run in runs:
        print(_line(run))
    return EXIT_OK


_STATE_WIDTH = max(len(state.label) for state in RUN_STATES.values())  # the times line up below each other


def _line(run: dict[str, Any]) -> str:
    what = f"#{run['id']:<4} {when(run['started_at']):<16}  {run['kind']:<5} {run['plugin']:<12}"
    if run["kind"] == "study":
        return what + "  comparison"
    if run["kind"] == "observe":
        wall = "" if run["wall_s"] is None else f"  {human_duration(run['wall_s'])}"
        return what + wall
    config = config_label(run) if run["backend"] else ""
    counts = f"{count(run.get(Status.OK.value) or 0)}/{count(run.get('total') or 0)} {Status.OK.label}"
    wall = "" if run["wall_s"] is None else f"  {human_duration(run['wall_s'])}"
    cont = f"  (continues #{run['parent_id']})" if run["parent_id"] else ""
    return f"{what}  {config:<14} {counts:>14}  {run_state(run['state']).label:<{_STATE_WIDTH}}{wall}{cont}"


def _show(conn: Any, ref: str, as_json: bool) -> int:
    if ref == "last":
        found = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    else:
        try:
            found = int(ref)
        except ValueError:
            raise UsageError(f"expected a run number or 'last', not {ref!r}") from None
    run = store.get_run(conn, found) if found is not None else None
    if run is None:
        raise UsageError(f"history has no run {ref!r} (see 'poolside history')")
    run["failures"] = store.failures(conn, run["id"], limit=None if as_json else 20)
    if isinstance(run.get("cwd"), bytes):
        run["cwd"] = os.fsdecode(run["cwd"])
    if as_json:
        from ..serialize import plain

        run = plain(run)
        print(json.dumps(run, indent=1, ensure_ascii=False))
        return EXIT_OK
    print(_line(run))
    if run["kind"] == "observe":
        return _show_observation(run.get("summary") or {})
    state = run_state(run["state"])
    if run["kind"] == "run" and state.meaning:
        print(f"  state    {state.meaning}")
    if run.get("history_error"):
        print(f"  history  stopped part-way: {run['history_error']}")
    spec = run["spec"]
    print(f"  plugin   {spec['plugin']}  {run['plugin_hash'] or ''}")
    if spec.get("params"):
        print("  params   " + ", ".join(f"{k}={v}" for k, v in spec["params"].items()))
    inputs = " ".join(printable(p) for p in spec.get("paths", []))
    print("  inputs   " + inputs + ("  (recursive)" if spec.get("recursive") else ""))
    if run["kind"] == "run":
        print("  counts   " + ", ".join(f"{count(run.get(s.value) or 0)} {s.label}" for s in STATUS_ORDER))
        if run["cpu_s"] is not None:
            print(f"  time     {human_duration(run['wall_s'])} wall, {human_duration(run['cpu_s'])} CPU")
    study = run.get("study")
    if study and study.get("recommendation"):
        rec = study["recommendation"]
        print(f"  verdict  {config_label(rec)} ({rec['speedup']:.2f}× sequential): {rec['why']}")
    for f in run["failures"]:
        print(f"  {status_label(f['status'])}: {f['item']}: {f['error_type']}: {f['message']}")
    return EXIT_OK


def _show_observation(record: dict[str, Any]) -> int:
    print(f"  command  {observe_words.command_text(record.get('command'), 200)}")
    if record.get("exit_code") is not None:
        print(f"  exit     {record['exit_code']}")
    for p in record.get("processes", []):
        print(f"  {p['pid']:>7}  {observe_words.role_label(p['role'], p.get('pool')):<44} "
              f"{human_duration(p['cpu_s'])} CPU, {len(p['threads'])} threads")
    verdict = record.get("verdict") or {}
    print(f"  verdict  {observe_words.headline(verdict)} {verdict.get('why', '')}")
    return EXIT_OK
