"""The history: every run and study kept in SQLite, and resume.

    store.py     the database: schema and migrations, reading, pruning (sqlite3, WAL)
    recorder.py  RunRecorder(spec, task).on_outcomes(batch) / .finish(summary): any runner records a run
    resume.py    plan_resume("last"): what is left to run, as a continuation
"""

from __future__ import annotations

from .recorder import RunRecorder, fingerprint, record_study
from .resume import ResumeError, ResumePlan, plan_resume
from .store import HistoryError, enabled

__all__ = ["HistoryError", "ResumeError", "ResumePlan", "RunRecorder", "enabled", "fingerprint", "plan_resume",
           "record_study"]
