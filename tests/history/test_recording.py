"""One recording path: runs and studies with any setting a plugin may declare (a Path output
folder, a Literal choice), from the Python API and the CLI, and a history that cannot be
written said in words, never swallowed, while the run or study still stands."""

from __future__ import annotations

import enum
import json
import os
import sqlite3
from pathlib import Path

import pytest

from poolside import run
from poolside.cli import main
from poolside.history import HistoryError, RunRecorder, record_study, store
from poolside.spec import JobSpec
from poolside.study import compare, prepare_study

#: A plugin like ``thumbnail``: a Path setting marked Output, and a choice.
COPIER = """
from pathlib import Path
from typing import Annotated, Literal

from poolside.plugins import Output


def copier(path: Path, out: Annotated[Path, Output] = Path("copies"),
           mode: Literal["fast", "slow"] = "fast") -> int:
    out.mkdir(parents=True, exist_ok=True)
    (out / path.name).write_bytes(path.read_bytes())
    return path.stat().st_size
"""


class Mode(str, enum.Enum):
    FAST = "fast"
    SLOW = "slow"


def _job(tmp_path: Path, n: int = 24, **params) -> JobSpec:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(n):
        (inputs / f"f{i}.txt").write_text("x" * (i + 1))
    plugin = tmp_path / "copier.py"
    plugin.write_text(COPIER)
    params.setdefault("out", tmp_path / "copies")  # never the default, relative to the tests' folder
    return JobSpec(f"{plugin}:copier", paths=(str(inputs),), recursive=True, backend="threads", workers=2,
                   params=params)


def _study(spec: JobSpec):
    return prepare_study(spec, sample=12, repeats=1, backends=("threads",), workers=(2,)).run()


def _row(run_id: int) -> dict:
    conn = store.connect()
    try:
        row = store.get_run(conn, run_id)
    finally:
        conn.close()
    assert row is not None
    return row


def _break_history(monkeypatch, tmp_path: Path, how: str) -> None:
    if how == "a file where the folder should be":
        home = tmp_path / "not-a-folder"
        home.write_text("")
    else:
        home = tmp_path / "home"
        home.mkdir()
        (home / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("POOLSIDE_HOME", str(home))


# -- the user's bug: a study whose settings hold a Path ---------------------------

def test_a_study_with_a_path_setting_is_recorded_and_reads_back(tmp_path: Path):
    out = tmp_path / "user-out"
    spec = _job(tmp_path, out=out)  # a Path, as the window's form gives it
    result = _study(spec)
    assert isinstance(result.params["out"], Path)  # what made json.dumps raise in the recorder

    study_id = record_study(spec, result)

    row = _row(study_id)
    assert row["kind"] == "study" and row["state"] == "finished"
    assert row["study"]["params"]["out"] == str(out)
    assert row["spec"]["params"]["out"] == str(out)
    assert [c["backend"] for c in row["study"]["configs"]] == [c["backend"] for c in result.to_dict()["configs"]]
    assert not out.exists()  # the study wrote into a scratch folder


def test_the_api_records_a_study_of_a_job_as_the_cli_does(tmp_path: Path):
    spec = _job(tmp_path, out=tmp_path / "o", mode=Mode.SLOW)
    result = compare(spec, sample=12, repeats=1, backends=("threads",), workers=(2,))
    conn = store.connect()
    try:
        study_id = store.last_run_id(conn, "study")
    finally:
        conn.close()
    row = _row(study_id)
    assert row["study"]["plugin"] == result.plugin
    assert row["study"]["params"] == {"out": str(tmp_path / "o"), "mode": "slow"}


def test_a_cancelled_study_is_not_recorded_by_any_front_end(tmp_path: Path):
    spec = _job(tmp_path)
    record = {**_study(spec).to_dict(), "cancelled": True}
    assert record_study(spec, record) is None
    conn = store.connect()
    try:
        assert store.last_run_id(conn, "study") is None
    finally:
        conn.close()


def test_a_run_whose_settings_hold_a_path_an_enum_and_a_tuple_is_recorded(tmp_path: Path):
    spec = _job(tmp_path, out=tmp_path / "copies", mode=Mode.FAST)
    prepared = spec.prepare()
    # A caller's extra values (not a plugin setting): a tuple, a set, an enum.
    recorded = spec.replace(backend_options={"hint": (1, 2), "tags": {"b", "a"}, "mode": Mode.SLOW})
    recorder = RunRecorder(recorded, prepared.task)
    job = run(prepared.task, prepared.items, **prepared.run_options(), on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)

    assert recorder.error is None
    row = _row(recorder.run_id)
    assert (row["state"], row["total"], row["ok"]) == ("finished", 24, 24)
    assert row["spec"]["params"] == {"out": str(tmp_path / "copies"), "mode": "fast"}
    assert row["spec"]["backend_options"] == {"hint": [1, 2], "tags": ["a", "b"], "mode": "slow"}
    assert JobSpec.from_dict(row["spec"]).params["out"] == str(tmp_path / "copies")  # resume reads it back


# -- a history that cannot be written -----------------------------------------------

@pytest.mark.parametrize("how", ["a file where the folder should be", "a damaged file"])
def test_record_study_raises_history_error_saying_why(tmp_path: Path, monkeypatch, how: str):
    result = _study(_job(tmp_path))
    _break_history(monkeypatch, tmp_path, how)
    with pytest.raises(HistoryError) as caught:
        record_study(JobSpec("sha256"), result)
    message = str(caught.value)
    assert "history" in message and os.environ["POOLSIDE_HOME"] in message
    assert ("not a database" in message) if how == "a damaged file" else ("exists" in message.lower()
                                                                          or "directory" in message.lower())


def test_a_history_from_a_newer_poolside_is_a_history_error(tmp_path: Path):
    conn = store.connect()
    conn.execute(f"PRAGMA user_version={store.SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(HistoryError, match="newer Poolside"):
        record_study(JobSpec("sha256"), {"plugin": "sha256", "configs": []})


def test_a_record_json_cannot_hold_is_a_history_error_too():
    with pytest.raises(HistoryError, match="cannot be written as JSON"):
        record_study(JobSpec("sha256"), {"plugin": "sha256", "scaling": {(1, 2): 0.5}})


def test_a_run_still_runs_when_its_history_cannot_be_written(tmp_path: Path, monkeypatch, caplog):
    spec = _job(tmp_path)
    prepared = spec.prepare()
    _break_history(monkeypatch, tmp_path, "a damaged file")
    recorder = RunRecorder(spec, prepared.task)
    job = run(prepared.task, prepared.items, **prepared.run_options(), on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    assert job.summary.counts["ok"] == 24
    assert recorder.run_id is None and "not a database" in (recorder.error or "")
    assert any("not in the history" in r.getMessage() for r in caplog.records)


def test_a_history_that_fails_mid_run_is_said(tmp_path: Path, monkeypatch):
    spec = _job(tmp_path)
    prepared = spec.prepare()
    recorder = RunRecorder(spec, prepared.task)
    assert recorder.run_id is not None

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("poolside.history.recorder._write_batch", full)
    job = run(prepared.task, prepared.items, **prepared.run_options(), on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    assert job.summary.counts["ok"] == 24
    assert "database or disk is full" in (recorder.error or "")


# -- the CLI --------------------------------------------------------------------------

def test_cli_run_warns_once_and_exits_as_the_run_deserves(tmp_path: Path, monkeypatch, capsys):
    spec = _job(tmp_path)
    _break_history(monkeypatch, tmp_path, "a damaged file")
    code = main(["run", *spec.paths, "-r", "--plugin", spec.plugin, "--backend", "threads", "--workers", "2",
                 "--param", f"out={tmp_path / 'copies'}", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not in the history" in warnings[0] and "not a database" in warnings[0]


def test_cli_compare_warns_and_still_gives_its_verdict(tmp_path: Path, monkeypatch, capsys):
    spec = _job(tmp_path)
    _break_history(monkeypatch, tmp_path, "a damaged file")
    report = tmp_path / "study.json"
    code = main(["compare", *spec.paths, "-r", "--plugin", spec.plugin, "--param", f"out={tmp_path / 'o'}",
                 "--sample", "12", "--repeats", "1", "--backends", "threads", "--workers", "2",
                 "--json", str(report)])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning: this study is not in the history:" in captured.err and "not a database" in captured.err
    assert captured.out.strip()  # the table and the verdict
    assert json.loads(report.read_text())["params"] == {"out": str(tmp_path / "o")}


def test_cli_compare_records_the_study(tmp_path: Path, capsys):
    spec = _job(tmp_path)
    code = main(["compare", *spec.paths, "-r", "--plugin", spec.plugin, "--sample", "12", "--repeats", "1",
                 "--backends", "threads", "--workers", "2"])
    assert code == 0 and "not in the history" not in capsys.readouterr().err
    conn = store.connect()
    try:
        [study] = [r for r in store.list_runs(conn) if r["kind"] == "study"]
    finally:
        conn.close()
    assert _row(study["id"])["spec"]["plugin"] == spec.plugin
