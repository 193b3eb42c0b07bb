"""What a Dask cluster offers, asked of its scheduler: workers, threads, memory, versions, load.

    probe(address) ──Client──► scheduler_info() + get_versions() + each worker's Poolside
                  ──► ClusterReport(workers, dashboard, mismatches)

    python -m poolside.backends.dask_info ADDRESS   prints the report as JSON (exit 0), or the
                                                    reason on stderr (exit 1)

The window's Test connection runs the module as a short-lived subprocess:
importing ``distributed`` takes about half a second and a client starts an
event-loop thread, neither of which belongs in the window's process, and a
subprocess that hangs on a strange address is killed with nothing left over.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..records import describe_error

#: The versions that must agree between the client and the workers.
CHECKED = ("python", "dask", "distributed", "poolside")


class ClusterReport(NamedTuple):
    address: str
    dashboard: str  #: the scheduler's dashboard URL, or "" when it serves none
    #: One per worker: address, host, threads, memory (bytes, limit), cpu (%), rss (bytes),
    #: executing (tasks in flight), versions (name -> version).
    workers: list[dict[str, Any]]
    client: dict[str, str]  #: this side's versions
    mismatches: list[str]  #: "dask 2026.11.0 here, 2026.10.0 on tcp://…" (one per name and version)

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterReport:
        return cls(str(data["address"]), str(data.get("dashboard") or ""), list(data["workers"]),
                   dict(data["client"]), list(data["mismatches"]))


def probe(address: str) -> ClusterReport:
    """Ask the scheduler at ``address``; ``ValueError`` (within seconds) when it cannot be reached."""
    from .dask import connect

    client = connect(address)
    try:
        info = client.scheduler_info()
        versions = client.get_versions(check=False)
        poolside = client.run(_poolside_version, on_error="return")
        dashboard = ""
        if "dashboard" in info.get("services", {}):
            dashboard = str(client.dashboard_link)
    finally:
        client.close()
    mine = {**_packages(versions["client"]), "poolside": _poolside_version()}
    workers = []
    for worker_address, w in sorted(info["workers"].items()):
        theirs = {**_packages(versions["workers"].get(worker_address, {})),
                  "poolside": _text(poolside.get(worker_address))}
        metrics = w.get("metrics", {})
        workers.append({
            "address": worker_address, "host": w.get("host", ""), "threads": int(w.get("nthreads", 0)),
            "memory": w.get("memory_limit") or None, "cpu": metrics.get("cpu"), "rss": metrics.get("memory"),
            "executing": (metrics.get("task_counts") or {}).get("executing", 0), "versions": theirs,
        })
    return ClusterReport(address, dashboard, workers, mine, mismatches(mine, workers))


def mismatches(mine: Mapping[str, str], workers: list[dict[str, Any]]) -> list[str]:
    """One line per package and version that differs from this side's, naming the workers that have it."""
    found: dict[tuple[str, str], list[str]] = {}
    for w in workers:
        for name in CHECKED:
            theirs = w["versions"].get(name, "")
            if theirs != mine.get(name, ""):
                found.setdefault((name, theirs), []).append(w["address"])
    return [f"{name} {mine.get(name) or 'missing'} here, {version or 'missing'} on "
            f"{', '.join(where[:3])}{' …' if len(where) > 3 else ''}" for (name, version), where in found.items()]


def _packages(versions: Mapping[str, Any]) -> dict[str, str]:
    packages = versions.get("packages", {})
    python = str(packages.get("python") or "")
    return {"python": ".".join(python.split(".")[:3]), "dask": _text(packages.get("dask")),
            "distributed": _text(packages.get("distributed"))}


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, BaseException) else str(value)


def _poolside_version() -> str:
    """This process's Poolside version (run on each worker too), or "" when it has none."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("poolside")
    except PackageNotFoundError:
        return ""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m poolside.backends.dask_info tcp://HOST:8786", file=sys.stderr)
        return 2
    try:
        report = probe(argv[0])
    except ImportError:
        print("the 'distributed' package is not installed: pip install 'poolside[dask]'", file=sys.stderr)
        return 1
    except Exception as e:  # said on stderr for the window, which shows it as the test's answer
        print(describe_error(e) if not isinstance(e, ValueError) else str(e), file=sys.stderr)
        return 1
    json.dump(report.to_dict(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
