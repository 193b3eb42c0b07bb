"""Write the study records the window's tests show (``python tests/study_data/make.py``).

Each is ``StudyResult.to_dict()`` of a real study (``poolside.compare``) of a
task in ``tests/plugin_files/study_tasks.py`` over 40 small files, on the
machine that runs this script; the tests read them back with
``StudyResult.from_dict`` (``tests/study_fakes.py``).  Run again after a change
to the record's shape.

- ``grid_cpu.json``: pure-Python CPU work, threads and processes at 1, 2 and 4
  workers and an mp-pool, 3 repeats: processes win, workers vary (scaling chart).
- ``grid_tie.json``: sleeping work, threads ×2 against thread-executor ×2,
  3 repeats: two configurations within noise of each other (a lead that is
  not significant; the script retries until the study says so).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TASKS = HERE.parent / "plugin_files" / "study_tasks.py"


def _files(folder: Path, n: int = 40) -> tuple[str, ...]:
    for i in range(n):
        (folder / f"f{i:02}.txt").write_text(str(i))
    return tuple(str(p) for p in sorted(folder.iterdir()))


def main() -> int:
    from poolside.spec import JobSpec
    from poolside.study import compare

    with tempfile.TemporaryDirectory() as tmp:
        paths = _files(Path(tmp))
        cpu = compare(JobSpec(f"{TASKS}:burn", paths=paths), sample=24, repeats=3, record=False,
                      backends=("threads", "processes", "mp-pool"), workers=(1, 2, 4), methods=(None, "imap"))
        (HERE / "grid_cpu.json").write_text(json.dumps(cpu.to_dict(), indent=1) + "\n")
        for attempt in range(10):
            tie = compare(JobSpec(f"{TASKS}:nap", paths=paths, params={"seconds": 0.005}), sample=24, repeats=3,
                          record=False, backends=("threads", "thread-executor"), workers=(2,), seed=attempt)
            if tie.lead is not None and not tie.lead.significant:
                (HERE / "grid_tie.json").write_text(json.dumps(tie.to_dict(), indent=1) + "\n")
                break
        else:
            print("no tie in 10 studies: grid_tie.json not written", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
