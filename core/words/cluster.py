"""Words for a Dask cluster: where a run goes, how its files travel, what a connection test found.

    (address, files mode) ──► cluster_line()        the CLI's start line, the window's Backend panel
    ClusterReport          ──► report_lines()        the Backend panel's Test connection
"""

from __future__ import annotations

from typing import Any

from .units import human_bytes

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
