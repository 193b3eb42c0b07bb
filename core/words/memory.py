"""Memory caps in words: what a worker killed for its memory tells its item.

    backends._memcap (bytes used, the cap) ──above_cap──► "used 1.3 GB, above the 1 GB cap"
    the CLI and the Backend panel (a backend) ──cap_unsupported──► why this backend takes no cap

Sizes read in the units the cap was given in (``units.size_text``).
"""

from __future__ import annotations

from .units import size_text


def above_cap(used: int, cap: int) -> str:
    """The failed item's message: ``"used 1.3 GB, above the 1 GB cap"``."""
    return f"used {size_text(used, cap)}, above the {size_text(cap, cap)} cap"


def cap_unsupported(backend: str, kind: str) -> str:
    """Why ``backend`` cannot enforce a per-worker memory cap (a usage error)."""
    need = "a per-worker memory cap needs worker processes it can kill and replace (processes, " \
           "process-per-item, mp-pool)"
    if kind == "processes":
        return f"the {backend} backend's library breaks or restarts its whole pool when one worker is killed: {need}"
    where = {"threads": "in threads of one process", "async": "on one event loop in one process",
             "cluster": "on a cluster's workers, which keep their own memory limit"}.get(kind, "in one process")
    return f"the {backend} backend runs its items {where}: {need}"
