"""A configuration's label, and a backend's family with its colour.

A family groups the backends that run items the same way, so that a chart
colours them alike.  It is derived from the two traits every backend declares
(``Backend.kind`` and ``Backend.library``, mirrored in the registry so that no
backend is imported to colour it)::

    library "none"                                  -> sequential
    library "poolside"            kind threads      -> threads
    library "poolside"            kind processes    -> processes
    library "threading" / "multiprocessing"         -> per-item
    library "concurrent.futures" / "multiprocessing.pool" -> pools
    library "joblib"                                -> joblib
    kind "async"                                    -> asyncio
    kind "cluster"                                  -> cluster
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..backends import entry

#: Family colours: mid-tones that read on light and dark palettes, none of
#: them a status colour (green ok, red failed) so a bar never reads as a verdict.
FAMILY_COLORS: dict[str, str] = {
    "sequential": "#8c919a",
    "threads": "#3d7fd9",  # the window's accent
    "processes": "#8e5bd9",
    "per-item": "#d9793d",
    "pools": "#2aa3a3",
    "joblib": "#6b8e23",
    "asyncio": "#c2a12b",
    "cluster": "#d94f8e",
}
#: The family of a backend the registry does not know (a study read from another Poolside).
UNKNOWN_FAMILY = "pools"

_BY_LIBRARY = {"none": "sequential", "threading": "per-item", "multiprocessing": "per-item",
               "concurrent.futures": "pools", "multiprocessing.pool": "pools", "joblib": "joblib"}
_BY_KIND = {"async": "asyncio", "cluster": "cluster", "threads": "threads", "processes": "processes"}


def family(backend: str) -> str:
    """``"threads"``, ``"processes"``, ``"pools"``, ``"joblib"``, ``"cluster"``… (a key of FAMILY_COLORS)."""
    e = entry(backend)
    if e is None:
        return UNKNOWN_FAMILY
    return _BY_LIBRARY.get(e.library) or _BY_KIND[e.kind]


def family_color(backend: str) -> str:
    """The colour of ``backend``'s family, as ``#rrggbb``."""
    return FAMILY_COLORS[family(backend)]


def config_label(config: Any) -> str:
    """``sequential``, ``processes ×4``, ``mp-pool ×4 · imap · chunk 64``.

    ``config`` is a study's ``Config``, any record with those fields, or the
    dict that ``to_dict()`` gives.
    """
    get = config.get if isinstance(config, Mapping) else lambda key, default=None: getattr(config, key, default)
    backend = str(get("backend", "?"))
    if backend == "sequential":
        return backend
    text = f"{backend} ×{get('workers', '?')}"
    if get("method"):
        text += f" · {get('method')}"
    chunk = get("chunk_size", "auto")
    if chunk not in ("auto", None):
        text += f" · chunk {chunk}"
    cap = get("library_threads")
    if cap:
        text += f" · {cap} library thread" + ("s" if cap != 1 else "")
    return text


def library_threads_unsupported(backend: str, kind: str) -> str:
    """Why ``backend`` cannot cap a task's libraries' threads (a usage error)."""
    need = ("capping a task's library threads (BLAS, OpenMP) needs workers that each run one item at a "
            "time in a process of their own (processes, process-per-item, mp-pool, process-executor, "
            "joblib), or sequential")
    where = {"threads": "its items in threads of one process, which share the libraries' pools",
             "async": "its items on one event loop, which shares the libraries' pools",
             "cluster": "its items on a cluster's workers, each with threads of its own"}.get(kind, "its items")
    return f"the {backend} backend runs {where}: {need}"
