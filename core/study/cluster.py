"""The Dask cluster as a configuration of a study, and when it pays: its hand-off cost per item.

    JobSpec.backend_options {address, files} ──► options(spec) ──► Study(cluster=...)
    auto mode, an address set ──► auto_configs(): dask at the cluster's thread count
    every dask run ──► measure(..., backend_options=...)
    the study's results ──► note(): hand-off ms per item, the work per item from which the
                            cluster beats local processes; shipped, ms per MB sent
                            (transfer_cost: timed round trips of 4 MB against 1 byte)

The hand-off cost of a configuration is its wall time times its workers minus
the items' own run time, per item: what each item cost beyond its work
(scheduling, sending it and its file, bringing its result back).  With ``h``
and ``W`` the cluster's and local processes' cost and workers, items of ``t``
seconds of work finish sooner on the cluster when ``(t + h_c) / W_c < (t +
h_p) / W_p``, that is from ``t* = (h_c / W_c - h_p / W_p) / (1 / W_p - 1 / W_c)``
on (never, when the cluster has no more workers than this machine's processes).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from .plan import Config
from .record import ConfigResult

#: The spec's backend options that describe the cluster.
KEYS = ("address", "files")


def options(spec: Any) -> dict[str, Any]:
    """The dask backend's options a study's dask configurations run with (from the spec, else the environment)."""
    from ..backends.dask import ADDRESS_VARIABLE

    given = dict(getattr(spec, "backend_options", None) or {})
    found = {k: given[k] for k in KEYS if given.get(k)}
    if "address" not in found and os.environ.get(ADDRESS_VARIABLE):
        found["address"] = os.environ[ADDRESS_VARIABLE]
    return found


def auto_configs(cluster: Mapping[str, Any], cores: int) -> list[Config]:
    """Auto mode's cluster configuration: with an address, dask at the cluster's thread count."""
    if not cluster.get("address"):
        return []
    return [Config("dask", _threads(cluster) or cores)]


def fit_grid(configs: Sequence[Config], cluster: Mapping[str, Any]) -> list[Config]:
    """A grid's dask configurations at the cluster's thread count when an address is set: there the
    backend runs on every thread the cluster has, whatever the worker count asked (one configuration)."""
    if not cluster.get("address") or not any(c.backend == "dask" for c in configs):
        return list(configs)
    threads = _threads(cluster)
    if threads is None:
        return list(configs)
    fitted = [dataclasses.replace(c, workers=threads) if c.backend == "dask" else c for c in configs]
    return list(dict.fromkeys(fitted))


def _threads(cluster: Mapping[str, Any]) -> int | None:
    """The cluster's threads, or ``None`` when it cannot be asked (its runs then fail saying why)."""
    from ..backends.dask import connect

    try:
        client = connect(str(cluster["address"]))
    except (ValueError, ImportError):
        return None
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()


def note(results: Sequence[ConfigResult], sample: Sequence[Any], cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``cluster`` note of a study that ran the cluster (with the cost per MB measured when files ship)."""
    found = handoff_note(results, sample, cluster)
    if found is not None and cluster.get("files") == "shipped" and cluster.get("address"):
        found["per_mb_s"] = transfer_cost(str(cluster["address"]))
    return found


#: The payload of the transfer probe, in MB: big enough that sending it dominates a round trip.
_PROBE_MB = 4


def transfer_cost(address: str) -> float | None:
    """Seconds per MB sent to a worker: round trips with 4 MB against 1 byte, medians of 3; ``None`` if unreachable."""
    import statistics
    import time

    from ..backends.dask import connect

    try:
        client = connect(address)
    except (ValueError, ImportError):
        return None
    try:
        def round_trip(payload: bytes) -> float:
            t0 = time.perf_counter()
            client.submit(len, payload, pure=False).result(timeout=60)
            return time.perf_counter() - t0

        big = os.urandom(_PROBE_MB * 2**20)  # random: no transport compression makes it cheap
        small = statistics.median(round_trip(b"x") for _ in range(3))
        large = statistics.median(round_trip(big) for _ in range(3))
        return max(0.0, large - small) / _PROBE_MB
    except Exception as e:  # a worker gone mid-probe: the note goes without it, said in the log
        from ..log import get_logger

        get_logger(__name__).warning("measuring the cluster's transfer cost failed: %s", e)
        return None
    finally:
        client.close()


def handoff_note(results: Sequence[ConfigResult], sample: Sequence[Any],
                 cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``cluster`` note: measured hand-off costs and the break-even work per item; ``None`` without both runs."""
    n = len(sample)
    dask = _best(results, "dask")
    local = _best(results, "processes")
    if dask is None or local is None or not n:
        return None
    h_c, w_c = _handoff(dask, n), dask.config.workers
    h_p, w_p = _handoff(local, n), local.config.workers
    note: dict[str, Any] = {"code": "cluster", "handoff_s": h_c, "local_handoff_s": h_p,
                            "workers": w_c, "local_workers": w_p, "break_even_s": None}
    if w_c > w_p:
        note["break_even_s"] = max(0.0, (h_c / w_c - h_p / w_p) / (1 / w_p - 1 / w_c))
    if cluster.get("files") == "shipped":
        note["mb_per_item"] = _mb_per_item(sample)
    return note


def _best(results: Sequence[ConfigResult], backend: str) -> ConfigResult | None:
    measured = [r for r in results if r.config.backend == backend and r.runs and r.error is None]
    return min(measured, key=lambda r: r.median_s) if measured else None


def _handoff(result: ConfigResult, n: int) -> float:
    """Seconds per item beyond the items' own run time, in the median run."""
    runs = sorted(result.runs, key=lambda r: r.wall_s)
    run = runs[len(runs) // 2]
    return max(0.0, (run.wall_s * result.config.workers - run.busy_s) / n)


def _mb_per_item(sample: Sequence[Any]) -> float:
    sizes = []
    for item in sample:
        if isinstance(item, (str, PurePath)):
            try:
                sizes.append(os.path.getsize(item))
            except OSError:
                continue
    return sum(sizes) / len(sizes) / 2**20 if sizes else 0.0
