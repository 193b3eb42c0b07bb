"""The child side of :class:`~poolside.gui.workspaces.compare.client.ProcessStudyClient` (no Qt here).

    window process                           study process (forkserver/spawn)
    ProcessStudyClient ── plan ────────────► study_main(plan, events, cancel)
          ▲            ◄── events queue ──── ("progress", p) ("result", config) ("finished", record, error)
          └─ cancel (an Event) ────────────► the engine polls ``cancelled()``

A study never runs in the window's process: its workers, its timing and its
memory would all be disturbed by the event loop, and a crash would take the
window with it.  This module is the stand-in until the run host (core/host)
takes studies too; only :func:`_engine` knows the study engine's entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _engine() -> Callable[..., Any]:
    """The study engine's entry point (issue 10): ``run_plan(plan, on_progress, on_result, cancelled)``."""
    from poolside.study import run_plan

    return run_plan


def study_main(plan: Mapping[str, Any], events: Any, cancel: Any) -> None:
    """Run one study; every message goes to ``events``, the last one always ``("finished", record, error)``."""
    try:
        run_plan = _engine()
    except ImportError as exc:
        events.put(("finished", None, f"the study engine is not available in this Poolside: {exc}"))
        return
    try:
        record = run_plan(
            dict(plan),
            on_progress=lambda p: events.put(("progress", dict(p))),
            on_result=lambda c: events.put(("result", dict(c))),
            cancelled=cancel.is_set,
        )
    except BaseException as exc:  # the window must hear why, whatever it was
        events.put(("finished", None, f"{type(exc).__name__}: {exc}"))
        return
    events.put(("finished", None if cancel.is_set() else record, None))
