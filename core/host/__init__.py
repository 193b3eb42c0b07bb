"""The run host: runs jobs for the window in a process of its own.

    window (Qt)                           run host (python -m poolside.host; no Qt)
      gui.bridge ─► HostClient ══ socket pair ══► Host ─► poolside.run(...) ─► workers
                    reader thread ◄═ outcome batches ═╛

Why a process: a pure-Python task on threads shares the GIL with the event
loop and freezes the window, and whatever a task does to its process (a
segfault, the OOM killer) it would do to the window.  The CLI and the Python
API still run in the caller's process.

- :mod:`.protocol`: the records that cross the pipe.
- :mod:`.hosting`: a host process's life (run host and study host alike).
- :mod:`.server`: the run host (``python -m poolside.host``).
- :mod:`.keeper`: starts a host process, reads it on a thread, outlives it.
- :mod:`.client`: runs jobs in a run host; :mod:`.run`, one run as the client sees it.
- :mod:`.study_server`, :mod:`.study_client`: the study host, a sibling that runs studies.
- :mod:`.marks`: which items were running when a host died.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "HostClient": "poolside.host.client",
    "HostRun": "poolside.host.client",
    "describe_exit": "poolside.proctree",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from ..proctree import describe_exit
    from .client import HostClient, HostRun

__getattr__ = lazy_exports(__name__, _EXPORTS)
