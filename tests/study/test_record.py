"""One typed study record: ``StudyResult.from_dict(r.to_dict()) == r`` for real studies.

A grid study, an auto study (threads and processes at the core count) and a
cancelled one, each on tiny tasks and a small sample; through JSON too, as
the history keeps them.  The derived numbers in the dict are for its readers
and are never read back.
"""

from __future__ import annotations

import json
import time

from poolside.study import ConfigResult, RunNumbers, StudyResult, compare, prepare_study


def spin(item: int) -> int:
    total = 0
    for i in range(20_000):
        total += i * item
    return total


def nap(item: int) -> int:
    time.sleep(0.002)  # ok: the item's own work (a wait), not a test waiting
    return item


def round_trips(record: StudyResult) -> None:
    data = record.to_dict()
    assert StudyResult.from_dict(data) == record
    assert StudyResult.from_dict(json.loads(json.dumps(data))) == record


def test_a_grid_study_round_trips():
    record = compare(spin, range(60), sample=20, repeats=2, backends=("threads", "thread-executor"), workers=(1, 2))
    assert record.mode == "grid" and all(len(c.runs) == 2 and c.warmup is not None for c in record.configs)
    assert record.recommendation is not None and record.lead is not None
    round_trips(record)


def test_an_auto_study_round_trips():
    record = compare(nap, range(60), sample=20, budget_s=6.0)
    assert record.mode == "auto" and record.diagnosis is not None and record.notes
    assert any(c.config.backend == "processes" and c.runs for c in record.configs)
    round_trips(record)


def test_a_cancelled_study_round_trips():
    holder: list = []

    def on_progress(p) -> None:
        if p.phase == "repeat":
            holder[0].cancel()

    study = prepare_study(spin, range(60), sample=20, repeats=3, backends=("threads",), workers=(2,),
                          on_progress=on_progress)
    holder.append(study)
    record = study.run()
    assert record.cancelled and not any(c.runs for c in record.configs)
    round_trips(record)


def test_derived_numbers_are_written_for_readers_and_not_read_back():
    run = RunNumbers(wall_s=0.5, cpu_s=0.9, busy_s=0.95, counts={"ok": 10}, startup_s=0.01, peak_mb=30.0, gil=False)
    config = ConfigResult.from_dict({"backend": "threads", "workers": 2, "runs": [run.to_dict()] * 3,
                                     "median_s": 99.0, "cores_used": 99.0, "speedup": 1.5})
    assert config.median_s == 0.5 and config.cores_used == 0.9 / 0.5 and config.speedup == 1.5
    written = config.to_dict()
    assert written["median_s"] == 0.5 and written["ok"] == 10 and written["runs"] == [run.to_dict()] * 3


def test_a_record_kept_before_the_runs_were_reads_back_with_its_numbers():
    from tests.study_fakes import study_dict

    data = study_dict()
    for c in data["configs"]:  # as the history kept a study before each run was in the record
        del c["runs"], c["warmup"]
    record = StudyResult.from_dict(data)
    for c, kept in zip(record.configs, data["configs"]):
        assert c.wall_s == kept["wall_s"] and c.median_s == kept["median_s"] and c.speedup == kept["speedup"]
        assert c.counts["ok"] == kept["ok"]
