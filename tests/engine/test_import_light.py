"""``from poolside import run`` imports what a run needs, and nothing heavier.

A one-shot script pays every import before its first item: the heavy modules
below are imported when something needs them (psutil at the first run's
sampler, asyncio for an ``async def`` task, the CLI and the history when used).
"""

from __future__ import annotations

import subprocess
import sys

from tests import ROOT

# Each one costs several milliseconds to import, or drags in more that does.
HEAVY = ("psutil", "numpy", "scipy", "asyncio", "sqlite3", "poolside.cli", "poolside.history", "PySide6",
         "statistics", "socket", "subprocess", "platform", "concurrent.futures", "multiprocessing",
         "dataclasses", "inspect")


def imported_by(code: str) -> list[str]:
    """The heavy modules that ``code`` imports, beyond what the interpreter's start-up imported
    (a site-packages ``.pth`` file may import some of them before any code runs)."""
    script = (f"import sys; before = set(sys.modules); {code}; "
              f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules and m not in before))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_from_poolside_import_run_stays_light():
    assert imported_by("from poolside import run") == []


def test_the_engine_parts_a_run_starts_with_stay_light():
    assert imported_by("import poolside.engine.job, poolside.backends.threads, poolside.records") == []
