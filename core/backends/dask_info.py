"""What a Dask cluster offers, asked of its scheduler: workers, threads, memory, versions, load.

    probe(address) ──Client──► scheduler_info() + get_versions() + each worker's Poolside
                  ──► ClusterReport(workers, dashboard, mismatches)

    python -m poolside.backends.dask_info ADDRESS   prints the report as JSON (exit 0), or the
                                                    reason on stderr (exit 1)
    ... --watch ADDRESS                             prints the workers' load, a JSON line a second,
                                                    until its parent goes (the Workers view)

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
    workers = load(info)
    for w in workers:
        w["versions"] = {**_packages(versions["workers"].get(w["address"], {})),
                         "poolside": _text(poolside.get(w["address"]))}
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


def load(info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each worker's load from ``scheduler_info()``: CPU (% of a core), memory (RSS and limit), tasks in flight."""
    rows = []
    for worker_address, w in sorted(info.get("workers", {}).items()):
        metrics = w.get("metrics", {})
        rows.append({"address": worker_address, "host": w.get("host", ""), "threads": int(w.get("nthreads", 0)),
                     "cpu": metrics.get("cpu"), "rss": metrics.get("memory"), "memory": w.get("memory_limit") or None,
                     "executing": (metrics.get("task_counts") or {}).get("executing", 0)})
    return rows


def watch(address: str, interval_s: float = 1.0) -> int:
    """Print the workers' load as a JSON line every ``interval_s`` until the parent process goes.

    The scheduler's own metrics (its workers report them with each heartbeat),
    so watching costs the cluster nothing beyond one small message a second.
    """
    import os
    import time

    from .dask import connect

    parent = os.getppid()
    client = connect(address)
    try:
        while os.getppid() == parent:
            print(json.dumps({"workers": load(client.scheduler_info())}), flush=True)
            time.sleep(interval_s)
    except BrokenPipeError:  # the reader went away: nothing left to tell
        return 0
    finally:
        client.close()
    return 0


def main(argv: list[str]) -> int:
    watching = argv[:1] == ["--watch"]
    if watching:
        argv = argv[1:]
    if len(argv) != 1:
        print("usage: python -m poolside.backends.dask_info [--watch] tcp://HOST:8786", file=sys.stderr)
        return 2
    try:
        if watching:
            return watch(argv[0])
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
