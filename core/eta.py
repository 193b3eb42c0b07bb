"""A running job's time left: the forecast's while its first items run, then the rate's.

    done, total, elapsed ─┬─ forecast given and done < FORECAST_SHARE × total ─► forecast − elapsed
                          └─ else ─────────────────────────────────────────────► (total − done) × elapsed / done

The window's progress line and the CLI's bar both say this one number.  A
module of its own, with no imports: both ask it at every progress update,
the window from its GUI thread, where importing the preview (sqlite3, the
history) at a run's first update cost a visible stall.
"""

from __future__ import annotations

#: A run's ETA follows its forecast until this share of its items is done (the first items' rate is
#: mostly the workers' start-up), then the rate the run measured.
FORECAST_SHARE = 0.1


def eta_s(done: int, total: int, elapsed_s: float, forecast_s: float | None = None) -> tuple[float | None, bool]:
    """The time a run has left, and whether it is the forecast's (``True``) or the measured rate's.

    None: nothing to go by yet.
    """
    if total <= 0:
        return None, False
    if forecast_s is not None and done < total * FORECAST_SHARE:
        return max(0.0, forecast_s - elapsed_s), True
    if done <= 0 or elapsed_s <= 0:
        return None, False
    return max(0.0, (total - done) * elapsed_s / done), False
