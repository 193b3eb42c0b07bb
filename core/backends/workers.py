"""Worker processes as the rest of Poolside sees them: start them early, know them, end them.

    prestart() ──► zygote (forked before any thread) ──► parked workers
                                                             │ adopted by
    run(backend="processes") ◄─────────────────────────────────┘
    stop_idle_workers() / release_workers() ──► parked workers and zygote end

The run host, the study host and the CLI start a run's workers before the run
(``prestart``), name Poolside's own helper processes in the CPU views
(``helper_pids``, ``parked_pids``) and end what is idle when they are done
(``stop_idle_workers``).  How it is done lives in the backend's private modules
(``_launch``, ``_parking``, ``_kill``); this module is the public face.
"""

from __future__ import annotations

from ._kill import kill_worker
from ._launch import default_method, helper_pids, prestart, release_workers, start_method, worker_context
from ._parking import IDLE_EXIT_S, parked_pids, stop_idle_workers

__all__ = [
    "IDLE_EXIT_S",
    "default_method",
    "helper_pids",
    "kill_worker",
    "parked_pids",
    "prestart",
    "release_workers",
    "start_method",
    "stop_idle_workers",
    "worker_context",
]
