"""What ``poolside run`` writes beside its outcomes: the trace (``--trace``) and the summary (``--output``).

    start_monitor() ─► usage.Monitor over this process's tree while the run goes
    write_trace(outcomes, monitor) ─► FILE.json (Chrome trace: items + CPU and memory counters)
    write_companion(FILE, summary) ─► FILE.summary.json beside the --output records

A file that cannot be written is said on stderr; the run's outcomes stand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..words.units import count
from .console import Console


def start_monitor() -> Any:
    from ..usage import Monitor

    monitor = Monitor()
    monitor.begin_run()
    monitor.start()
    return monitor


def write_trace(path: str, outcomes: list, monitor: Any, origin: float | None, console: Console,
                 process_names: dict[int, str]) -> dict[str, Any]:
    """Write the trace; returns the series it drew its counters from.  ``process_names``: the
    backend's names for processes not on this machine (a Dask cluster's workers)."""
    from ..trace import write_trace as write

    series = monitor.series()
    if origin is not None:  # counters on the engine's clock, as the items are
        series["t"] = series["t"] + (series["origin"] - origin)
        for p in series["processes"]:
            p["t"] = p["t"] + (series["origin"] - origin)
    try:
        n = write(path, outcomes, series, process_names=process_names)
    except OSError as e:
        console.err(f"error: writing the trace {path} failed: {e}")
        return series
    console.err(f"trace: {count(n)} items written to {path} (open it in ui.perfetto.dev)")
    return series


def companion_path(output: Path) -> Path:
    """Where the summary of ``--output FILE`` goes: ``FILE`` with ``.summary.json`` for its suffix."""
    return output.with_name(output.stem + ".summary.json")


def write_companion(output: Path, summary: Any, console: Console) -> None:
    import json

    from ..serialize import summary_record

    path = companion_path(output)
    try:
        path.write_text(json.dumps(summary_record(summary), indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        console.err(f"error: writing the summary to {path} failed: {e}")
