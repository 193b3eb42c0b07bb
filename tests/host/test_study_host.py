"""The study host: studies run in a process of their own, beside the run host, on the real engine.

Driven through its client (no Qt): a study of a task whose nature is known
comes back as a typed record that says so and survives ``to_dict``/``from_dict``;
a cancel once the workers exist leaves no process behind; a shutdown ends the
host.  Waits are on events and bounded polls of a condition; never sleeps.
"""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path
from typing import Any

import psutil
import pytest

from poolside.host.protocol import MAX_MESSAGE_BYTES, StudyFinished, StudyPart, study_parts
from poolside.host.study_client import StudyHostClient
from poolside.proctree import descendants
from poolside.spec import JobSpec
from poolside.study import Progress, Round, StudyPlan, StudyResult
from tests import PLUGIN_FILES

TASKS = str(PLUGIN_FILES / "study_tasks.py")
WAIT_S = 180.0


class Seen:
    """What a study's callbacks were given (on the client's reader thread)."""

    def __init__(self) -> None:
        self.progress: list[Progress] = []
        self.rounds: list[Round] = []
        self.end: tuple[Any, str | None, str | None] | None = None
        self.done = threading.Event()

    def finished(self, record: Any, error: str | None, history_error: str | None) -> None:
        self.end = (record, error, history_error)
        self.done.set()

    def callbacks(self) -> dict[str, Any]:
        return {"on_progress": self.progress.append, "on_round": self.rounds.append, "on_finished": self.finished}


@pytest.fixture
def files(tmp_path) -> tuple[str, ...]:
    for i in range(40):
        (tmp_path / f"f{i:02}.txt").write_text(str(i), encoding="utf-8")
    return tuple(str(p) for p in sorted(tmp_path.glob("*.txt")))


@pytest.fixture
def client():
    c = StudyHostClient()
    yield c
    c.shutdown()


def study(client: StudyHostClient, plan: StudyPlan) -> tuple[StudyResult, Seen]:
    seen = Seen()
    client.study(plan, **seen.callbacks())
    assert seen.done.wait(WAIT_S), "the study ended"
    assert seen.end is not None
    record, error, history_error = seen.end
    assert error is None and history_error is None, (error, history_error)
    assert isinstance(record, StudyResult)
    return record, seen


def round_trips(record: StudyResult) -> None:
    assert StudyResult.from_dict(record.to_dict()) == record
    assert StudyResult.from_dict(json.loads(json.dumps(record.to_dict()))) == record  # as the history keeps it


def test_auto_mode_on_pure_python_cpu_work_says_cpu_gil_and_measures_processes(client, files):
    record, seen = study(client, StudyPlan(JobSpec(f"{TASKS}:burn", paths=files), sample=24, budget_s=30))
    assert record.mode == "auto" and not record.cancelled
    assert record.diagnosis is not None and record.diagnosis.kind == "cpu-gil", record.diagnosis
    measured = {c.config.backend for c in record.configs if c.runs}
    assert {"sequential", "threads", "processes"} <= measured
    # Processes is measured in full; a slower processes configuration may be dropped from the
    # repeats to stay within the budget (a note says so), which is the budget working.
    assert any(len(c.runs) == record.repeats for c in record.configs if c.config.backend == "processes"), \
        [(c.config, len(c.runs)) for c in record.configs]
    assert seen.progress and [r.round for r in seen.rounds] == list(range(1, record.repeats + 1)), \
        [r.round for r in seen.rounds]
    assert all(isinstance(c, type(record.configs[0])) for r in seen.rounds for c in r.configs)
    round_trips(record)


def test_auto_mode_on_a_sleeping_task_says_waiting(client, files):
    plan = StudyPlan(JobSpec(f"{TASKS}:nap", paths=files, params={"seconds": 0.01}), sample=24, budget_s=30)
    record, _ = study(client, plan)
    assert record.diagnosis is not None and record.diagnosis.kind == "waiting", record.diagnosis
    round_trips(record)


def test_a_cancel_once_the_workers_exist_leaves_no_process_and_shutdown_ends_the_host(client, files):
    plan = StudyPlan(JobSpec(f"{TASKS}:burn", paths=files, params={"seconds": 0.02}), mode="grid",
                     backends=("processes",), workers=(2,), sample=40, repeats=50, budget_s=600)
    seen = Seen()
    client.study(plan, **seen.callbacks())
    assert client.wait_ready(WAIT_S)
    pid = client.host_pid
    assert pid is not None and pid != psutil.Process().pid

    def workers() -> list[psutil.Process]:
        return [p for p in descendants(pid) if p.pid not in client.helpers]

    found: list[psutil.Process] = []
    poll = threading.Event()
    while not (found := workers()) or len(found) < 2:  # the processes configuration's workers, as children
        assert not seen.done.is_set(), seen.end
        poll.wait(0.05)
    client.cancel()
    assert seen.done.wait(WAIT_S)
    assert seen.end is not None
    record, error, _ = seen.end
    assert error is None and (record is None or record.cancelled)
    if record is not None:
        round_trips(record)  # a cancelled study's record reads back too
    deadline = threading.Event()
    for _ in range(200):  # bounded: the host reaps its workers as the cancel ends the run
        if not workers():
            break
        deadline.wait(0.05)
    assert workers() == [], "the host's tree is its zygote alone"
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in found)
    host = psutil.Process(pid)
    client.shutdown()
    host.wait(10)
    assert not psutil.pid_exists(pid) and client.host_pid is None


def test_a_plan_that_cannot_run_says_why(client, tmp_path):
    seen = Seen()
    client.study(StudyPlan(JobSpec("no-such-plugin", paths=(str(tmp_path),))), **seen.callbacks())
    assert seen.done.wait(WAIT_S) and seen.end is not None
    record, error, _ = seen.end
    assert record is None and error and "no-such-plugin" in error


def test_the_final_record_crosses_one_configuration_a_message():
    from tests.study_fakes import study as stored

    record = stored()
    messages = study_parts(7, record, None, "HistoryError: full")
    assert [type(m) for m in messages] == [StudyPart] * len(record.configs) + [StudyFinished]
    end = messages[-1]
    assert end.parts == len(record.configs) and end.record.configs == [] and end.history_error == "HistoryError: full"
    sizes = [len(pickle.dumps(m, 5)) for m in messages]
    assert max(sizes[:-1]) < len(pickle.dumps(record, 5)) / 4  # a configuration is a small part of the record
    assert max(sizes) < MAX_MESSAGE_BYTES
    assert [m.config for m in messages[:-1]] == record.configs  # put back together, the same record


def test_the_plan_is_plain_data_both_ways(files):
    plan = StudyPlan(JobSpec("sha256", paths=files[:2]), mode="grid", backends=("threads",), workers=(1, 2),
                     chunk_sizes=("auto", 8), methods=(None,), sample=4, repeats=2, budget_s=5.0,
                     allow_side_effects=True)
    assert StudyPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert Path(plan.spec.paths[0]).exists()
