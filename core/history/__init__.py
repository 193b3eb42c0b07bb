"""The history: every run and study kept in SQLite, and resume.

    store.py     the database: schema and migrations, reading, pruning (sqlite3, WAL)
    recorder.py  RunRecorder(spec, task).on_outcomes(batch) / .finish(summary): any runner records a run;
                 record_study(spec, study): any front end keeps a study (raises HistoryError)
    series.py    save_series / get_series: a run's CPU and memory samples, one compressed blob
    resume.py    plan_resume("last"): what is left to run, as a continuation
    queue.py     JobQueue: jobs waiting to run after the current one, kept in the same database
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .recorder import RunRecorder, fingerprint, record_study
from .resume import ResumeError, ResumePlan, plan_resume
from .store import HistoryError, enabled

# The series need numpy (~60 ms to import): only what reads or writes one pays for it,
# not every ``poolside run``.
__getattr__ = lazy_exports(__name__, {name: f"{__name__}.series"
                                      for name in ("get_series", "record_series", "save_series")})

if TYPE_CHECKING:
    from .series import get_series, record_series, save_series

__all__ = ["HistoryError", "ResumeError", "ResumePlan", "RunRecorder", "enabled", "fingerprint", "get_series",
           "plan_resume", "record_series", "record_study", "save_series"]
