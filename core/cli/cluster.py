"""The Dask cluster's flags, shared by ``poolside run`` and ``poolside compare``.

    --address tcp://HOST:8786  --files shared|shipped ──► JobSpec.backend_options (address, files)
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from ..backends.dask import FILE_MODES
from .common import UsageError

#: The backend options the flags set: they belong to the dask backend alone.
CLUSTER_OPTIONS = ("address", "files")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", metavar="tcp://HOST:8786",
                        help="with --backend dask: the scheduler of a Dask cluster "
                             "(default: $POOLSIDE_DASK_ADDRESS, else a local cluster)")
    parser.add_argument("--files", choices=FILE_MODES,
                        help="with --backend dask: how files reach the workers: 'shared' storage "
                             "(they read the same paths; the default) or 'shipped' (sent, outputs brought back)")


def options(ns: argparse.Namespace, backend: str | None, base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` backend options with the flags given; a usage error when they do not fit ``backend``."""
    given = {k: v for k in CLUSTER_OPTIONS if (v := getattr(ns, k, None)) is not None}
    if backend == "dask":
        return {**base, **given}
    if given:
        flags = " and ".join(f"--{k}" for k in given)
        raise UsageError(f"{flags} need{'s' if len(given) == 1 else ''} --backend dask")
    # A job recorded on a cluster and run again on another backend leaves the cluster behind.
    return {k: v for k, v in base.items() if k not in CLUSTER_OPTIONS}
