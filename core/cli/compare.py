"""``poolside compare``: which backend, how many workers, what chunk size for this job, and why.

    argv ──► JobSpec ──prepare_study()──► Study ──run() in a thread──► StudyResult
                                            │ on_progress ──► one live line on stderr (a TTY)
    main thread: join(0.2) in a loop; Ctrl-C ──► study.cancel(): what was measured is still shown
    StudyResult ──► ranked table (stdout) + verdict ──► --json FILE (StudyResult.to_dict())
                └─► the history (record_study; one warning line if it cannot be written)

The numbers come from ``poolside.study``; the labels, durations, sizes and
sentences from ``poolside.words``, as in the window; only the table's layout is
made here.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from ..log import get_logger
from ..serialize import jsonable
from ..spec import JobSpec, SpecError
from ..words import study as say
from ..words.configs import config_label
from ..words.units import clock, human_bytes, human_duration
from . import cluster
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    chunk_size,
    positive_float,
    positive_int,
    size,
)
from .run import _parse_params

if TYPE_CHECKING:
    from ..study import Progress, StudyResult

log = get_logger(__name__)

# ``poolside.study`` (numpy, scipy: ~50 ms) is imported when a study is made or
# shown, not with the parser: every ``poolside run`` builds this command's parser.


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare", help="find the fastest way to run a plugin over your files, and why",
        description="Run the job on a sample of the items under several configurations (backend x workers "
                    "x chunk size), repeats interleaved, and recommend the fastest with the reason.  Without "
                    "--backends/--workers/--chunk-size/--methods, auto mode decides what to try within --budget.",
        epilog="Example: poolside compare resources/samples --recursive --plugin sha256 --json study.json")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, and folders with --recursive")
    p.add_argument("--plugin", "-p", required=True, metavar="NAME|FILE.py:FUNCTION")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a plugin setting")
    p.add_argument("--recursive", "-r", action="store_true", help="walk into folders")
    p.add_argument("--glob", "-g", action="append", default=[], metavar="PATTERN",
                   help="only files in folders whose names match (repeatable)")
    p.add_argument("--sample", type=positive_int, metavar="N",
                   help="items to run per configuration (default: about 2 s of sequential work, at least 20)")
    p.add_argument("--budget", type=positive_float, default=60.0, metavar="SECONDS",
                   help="auto mode's time budget (default: 60)")
    p.add_argument("--repeats", type=positive_int, default=3, metavar="N", help="timed runs per configuration")
    p.add_argument("--backends", type=_names, metavar="A,B", help="backends to compare (an explicit grid)")
    p.add_argument("--workers", type=_ints, metavar="1,2,8", help="worker counts to compare")
    p.add_argument("--chunk-size", type=_chunks, metavar="auto,1,64", help="chunk sizes to compare")
    p.add_argument("--methods", type=_names, metavar="map,imap", help="the classic pools' calls to compare")
    p.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="per item")
    p.add_argument("--max-memory", type=size, metavar="SIZE",
                   help="recommend nothing predicted to need more memory than SIZE (2GB, 512MB, 1.5GiB; "
                        "default: the memory available)")
    cluster.add_arguments(p)
    p.add_argument("--predict-workers", type=_ints, metavar="32,64",
                   help="predict the speed-up at these worker counts (a scaling model, fitted where the "
                        "workers varied over 3 counts or more; default: 2x and 4x the most measured)")
    p.add_argument("--json", metavar="FILE", help="write the study as JSON")
    p.add_argument("--snippet", metavar="FILE.py",
                   help="write a Python script that runs the job as recommended, with the library alone")
    p.add_argument("--yes", "-y", action="store_true",
                   help="run a plugin with side effects (fetch downloads) without asking")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(ns: argparse.Namespace) -> int:
    spec = JobSpec(ns.plugin, paths=tuple(ns.paths), params=_parse_params(ns.param), recursive=ns.recursive,
                   patterns=tuple(ns.glob), timeout=ns.timeout,
                   # The cluster's options go with the dask configurations (the grid's, or auto mode's).
                   backend_options=cluster.options(ns, "dask", {}))
    from ..backends import backend_names
    from ..study import StudyError, prepare_study
    from ..study.cluster import options as cluster_options
    from ..words.cluster import cluster_line

    if cluster_options(spec).get("address") or "dask" in (ns.backends or ()):
        found = cluster_options(spec)
        print("dask configurations run " + cluster_line(found.get("address"), found.get("files", "shared")),
              file=sys.stderr)

    unknown = [b for b in ns.backends or () if b not in backend_names()]
    if unknown:
        raise UsageError(f"unknown backend {unknown[0]!r}; choose from: {', '.join(backend_names())}")
    try:
        plugin = spec.load_plugin()
        allow = ns.yes or (bool(plugin.side_effects) and _confirm(plugin.name, plugin.side_effects))
        study = prepare_study(spec, sample=ns.sample, budget_s=ns.budget, repeats=ns.repeats,
                              backends=ns.backends, workers=ns.workers, chunk_sizes=ns.chunk_size,
                              methods=ns.methods, allow_side_effects=allow, max_memory=ns.max_memory,
                              on_progress=_Line().show, predict_workers=ns.predict_workers)
    except (SpecError, StudyError) as e:
        raise UsageError(str(e)) from None
    result = _run(study)
    _Line.clear()
    print_study(result, sys.stdout, max_memory=ns.max_memory)
    _record(spec, result)
    if ns.json:
        try:
            with open(ns.json, "w", encoding="utf-8") as f:
                json.dump(result.to_dict(), f, ensure_ascii=False, indent=1, default=jsonable)
        except OSError as e:
            print(f"error: cannot write {ns.json}: {e.strerror or e}", file=sys.stderr)
            return EXIT_FAILED
    if ns.snippet and not _write_snippet(ns.snippet, spec, result):
        return EXIT_FAILED
    if result.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.recommendation is not None else EXIT_FAILED


def _run(study: Any) -> StudyResult:
    """The study in a thread, so Ctrl-C lands here and cancels it cleanly."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(study.run()), name="poolside-study", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        _Line.clear()
        print("interrupted: stopping the study (what was measured is shown)", file=sys.stderr)
        study.cancel()
        thread.join()
    if not box:
        raise RuntimeError("the study ended without a result")
    return box[0]


def _write_snippet(path: str, spec: JobSpec, result: StudyResult) -> bool:
    """The recommendation as a script (``poolside.study.snippet``); an error line and False if it cannot be."""
    from ..study.snippet import SnippetError, study_snippet

    try:
        text = study_snippet(spec, result)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except (SnippetError, SpecError) as e:
        print(f"error: no script written: {e}", file=sys.stderr)
        return False
    except OSError as e:
        print(f"error: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return False
    print(f"script: {path} (python {path} runs the job as recommended)", file=sys.stderr)
    return True


def _record(spec: JobSpec, result: StudyResult) -> None:
    """Keep the study in the history; one warning line if it cannot be (the verdict stands, and the exit code)."""
    from ..history import HistoryError, record_study

    try:
        record_study(spec, result)
    except HistoryError as e:
        log.warning("the study is not in the history: %s", e)
        print(f"warning: this study is not in the history: {e}", file=sys.stderr)


def _confirm(name: str, effects: str) -> bool:
    question = f"plugin {name!r} {effects}, and a comparison repeats that for every run. Go ahead? [y/N] "
    if not sys.stdin.isatty():
        raise UsageError(f"plugin {name!r} {effects}; a comparison repeats that for every run: add --yes")
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("not confirmed; nothing was run")
    return True


class _Line:
    """One progress line on a terminal's stderr, redrawn in place."""

    shown = False

    def show(self, p: Progress) -> None:
        if not sys.stderr.isatty():
            return
        from ..words import study as say

        what = say.PHASES.get(p.phase)
        if what is None:
            step = f"repeat {p.repeat}/{p.repeats}" if p.phase == "repeat" else p.phase
            what = f"{step}: {config_label(p.config) if p.config else ''}"
        text = f"[{p.runs_done}/{p.runs_planned}] {what}  {clock(p.elapsed_s)}"
        sys.stderr.write("\r" + text[:100].ljust(100))
        sys.stderr.flush()
        _Line.shown = True

    @staticmethod
    def clear() -> None:
        if _Line.shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            _Line.shown = False


def print_study(result: StudyResult, out: Any, max_memory: int | None = None) -> None:
    """The ranked table, the warnings and notes, the diagnosis and the verdict.

    ``max_memory``: the cap the study was given; configurations predicted to
    need more (or more than the memory available) are flagged under the table.
    """
    rec = result.recommendation
    head = ("configuration", "median", "± MAD", "speed-up", "efficiency", "CPU used", "peak memory", "per worker")
    rows = [head]
    marks: list[str] = []
    unrun: list[tuple[str, str]] = []  # (label, why): after the table, so a long why widens no column
    for c in result.ranked():
        if not c.runs:
            why = c.error or (f"probe {human_duration(c.probe_s)}, left out of the repeats" if c.probe_s
                             else "not run")
            unrun.append((config_label(c.config), why))
            continue
        rows.append((config_label(c.config), human_duration(c.median_s), human_duration(c.spread.mad),
                     f"{c.speedup:.2f}×", f"{c.efficiency:.0%}", f"{c.cores_used:.1f} cores",
                     "-" if c.peak_bytes is None else human_bytes(c.peak_bytes),
                     "-" if c.worker_mb is None else human_bytes(c.worker_mb * 1e6)))
        marks.append("*" if rec is not None and c.config == rec.config else " ")
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    print(f"{result.items} of {result.total_items} items, {result.repeats} repeats each "
          f"({result.mode} mode, {human_duration(result.elapsed_s)})", file=out)
    for mark, row in zip([" ", *marks], rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        print(f"{mark} " + "  ".join(cells), file=out)
    for label, why in unrun:
        print(f"  {label.ljust(widths[0])}  {why}", file=out)
    for c in result.ranked():
        for code in c.warnings():
            print(f"warning: {config_label(c.config)}: {say.warning(code)}", file=out)
        if c.startup_s is not None and c.startup_s > 0.05:
            print(f"note: {config_label(c.config)} takes {human_duration(c.startup_s)} to start cold "
                  "(not in the times above)", file=out)
    for n in result.notes:
        print(f"note: {say.note(n)}", file=out)
    _print_memory(result, max_memory, out)
    _print_scaling(result.scaling, out)
    if result.diagnosis is not None:
        print(f"diagnosis: {say.diagnosis_sentence(result.diagnosis.kind)}", file=out)
    if result.cancelled:
        print("the study was interrupted: these numbers are partial", file=out)
    if rec is None:
        print("no recommendation: no configuration ran every item ok", file=out)
        return
    print(f"use: {config_label(rec.config)} ({rec.speedup:.2f}× sequential)", file=out)
    print(f"why: {rec.why}", file=out)
    if "memory_fit" in rec.reasons:
        print(f"memory: {say.fit_sentence(rec.reasons['memory_fit'])}", file=out)
    if result.forecast is not None:
        print(f"forecast: {say.forecast_sentence(result.forecast)}, {say.forecast_basis(result.forecast)}",
              file=out)


def _print_memory(result: StudyResult, max_memory: int | None, out: Any) -> None:
    """One line per configuration predicted to need more memory than the cap (or than is available)."""
    from ..study import memory

    lim = memory.limit(max_memory)
    for c, need in memory.flagged(result.configs, lim):
        print(f"memory: {say.over_limit_note(c.config, need, lim.to_dict())}", file=out)


def _print_scaling(scaling: dict[str, Any], out: Any) -> None:
    """One line per backend whose workers varied: speed-up (efficiency) per worker count, serial fraction."""
    physical = scaling.get("physical_cores")
    for name, points in scaling.get("series", {}).items():
        cells = []
        for p in points:
            mark = "|" if physical and p["workers"] == physical else ""
            cells.append(f"{mark}{p['workers']}: {p['speedup']:.2f}× ({p['efficiency']:.0%})")
        fractions = [p["serial_fraction"] for p in points if p["serial_fraction"] is not None]
        serial = f"; serial fraction ≈ {sorted(fractions)[len(fractions) // 2]:.2f}" if fractions else ""
        print(f"scaling, {name}: " + ", ".join(cells) + serial
              + (f"  (|: the {physical} physical cores)" if physical else ""), file=out)
    for model in scaling.get("models", {}).values():
        print(f"scaling model, {say.scaling_sentence(model)}", file=out)
    for p in scaling.get("predictions", ()):
        print(say.prediction_sentence(p), file=out)


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected names separated by commas")
    return names


def _ints(text: str) -> list[int]:
    return [positive_int(t) for t in _names(text)]


def _chunks(text: str) -> list[int | str]:
    return [chunk_size(t) for t in _names(text)]

