"""Words for a Dask cluster: where a run goes, how its files travel, what a connection test found.

    (address, files mode) ──► cluster_line()        the CLI's start line, the window's Backend panel
    ClusterReport          ──► report_lines()        the Backend panel's Test connection
    a study's cluster note ──► cluster_note()        when the cluster pays (CLI and window)
"""

from __future__ import annotations

from typing import Any

from .units import human_bytes, human_duration

#: How each files mode reads, in a sentence's middle.
FILE_MODE_TEXT = {
    "shared": "shared storage (the workers read the files at the same paths)",
    "shipped": "shipped (each file is sent to its worker, outputs come back)",
}
#: The label of each files mode on a control.
FILE_MODE_LABELS = {"shared": "Shared storage", "shipped": "Shipped"}
#: How to install what the dask backend needs.
INSTALL_HINT = "pip install 'poolside[dask]'"


def cluster_line(address: str | None, files: str) -> str:
    """``"on the Dask cluster at tcp://h:8786; files: shipped (...)"``."""
    where = f"the Dask cluster at {address}" if address else "a local Dask cluster"
    return f"on {where}; files: {FILE_MODE_TEXT.get(files, files)}"


def report_lines(report: Any) -> list[str]:
    """What a connection test found (``poolside.backends.dask_info.ClusterReport``), a line each."""
    workers = report.workers
    threads = sum(w["threads"] for w in workers)
    memory = sum(w["memory"] or 0 for w in workers)
    hosts = len({w["host"] for w in workers})
    lines = [f"{len(workers)} workers on {hosts} machine{'s' if hosts != 1 else ''}: "
             f"{threads} threads, {human_bytes(memory)} of memory"]
    if report.dashboard:
        lines.append(f"dashboard: {report.dashboard}")
    lines += [f"warning: {w}" for w in report.mismatches]
    return lines


def cluster_note(n: dict[str, Any]) -> str:
    """A study's ``cluster`` note: when the cluster pays, with its measured hand-off cost."""
    handoff = f"the hand-off cost {human_duration(n['handoff_s'])} an item on the cluster"
    if n.get("mb_per_item") is not None:
        handoff += f" ({n['mb_per_item']:.2f} MB shipped each"
        if n.get("per_mb_s") is not None:
            handoff += f"; sending costs {human_duration(n['per_mb_s'])} per MB"
        handoff += ")"
    handoff += f", {human_duration(n['local_handoff_s'])} on local processes"
    if n.get("break_even_s") is None:
        return (f"the cluster's {_plural(n['workers'], 'worker')} are no more than the "
                f"{_local(n['local_workers'])}, so it cannot beat them whatever the work per item; {handoff}")
    if n["break_even_s"] <= 0:
        return (f"the cluster ({_plural(n['workers'], 'worker')}) beats {_local(n['local_workers'])} "
                f"whatever the work per item; {handoff}")
    return (f"items need ≥ {human_duration(n['break_even_s'])} of work each for the cluster "
            f"({_plural(n['workers'], 'worker')}) to beat {_local(n['local_workers'])}; {handoff}")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _local(n: int) -> str:
    return f"{n} local process{'' if n == 1 else 'es'}"
