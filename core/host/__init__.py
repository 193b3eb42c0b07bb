"""The run host: runs jobs for the window in a process of its own.

    window (Qt)                           run host (python -m poolside.host; no Qt)
      gui.bridge ─► HostClient ══ socket pair ══► Host ─► poolside.run(...) ─► workers
                    reader thread ◄═ outcome batches ═╛

Why a process: a pure-Python task on threads shares the GIL with the event
loop and freezes the window, and whatever a task does to its process (a
segfault, the OOM killer) it would do to the window.  The CLI and the Python
API still run in the caller's process.

- :mod:`.protocol`: the records that cross the pipe.
- :mod:`.server`: the host process (``python -m poolside.host``).
- :mod:`.client`: starts hosts, runs jobs in them, survives their death.
- :mod:`.marks`: which items were running when a host died.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "HostClient": "poolside.host.client",
    "HostRun": "poolside.host.client",
    "describe_exit": "poolside.host.client",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .client import HostClient, HostRun, describe_exit

__getattr__ = lazy_exports(__name__, _EXPORTS)
