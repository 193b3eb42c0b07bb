"""The job spec: one record that the CLI, the window, the run host and studies build."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from poolside import Status, run
from poolside.cli import main
from poolside.spec import JobSpec, SpecError

SAMPLES = Path(__file__).parent.parent / "resources" / "samples"


def test_a_spec_round_trips_through_toml_json_and_pickle(tmp_path):
    spec = JobSpec("thumbnail", (str(SAMPLES),), {"size": 64, "out": str(tmp_path / "t h\"umbs")},
                   recursive=True, patterns=("*.jpg", "*.png"), backend="threads", workers=3,
                   chunk_size=4, timeout=2.5, ordered=True, method=None, backend_options={"x": 1})
    spec.save(tmp_path / "job.toml")
    assert JobSpec.load(tmp_path / "job.toml") == spec
    (tmp_path / "job.json").write_text(json.dumps(spec.to_dict()))
    assert JobSpec.load(tmp_path / "job.json") == spec
    assert pickle.loads(pickle.dumps(spec)) == spec


@pytest.mark.parametrize(("data", "words"), [
    ({"plugin": "sha256", "colour": "red"}, "unknown field in the job: colour"),
    ({"paths": ["x"]}, "names no plugin"),
    ({"plugin": "sha256", "workers": 0}, "workers must be a whole number"),
    ({"plugin": "sha256", "chunk_size": "big"}, "chunk_size must be 'auto'"),
    ({"plugin": "sha256", "timeout": -1}, "timeout must be a number of seconds"),
    ({"plugin": "sha256", "version": 99}, "version 99"),
])
def test_a_bad_spec_is_one_clear_error(data, words):
    with pytest.raises(SpecError, match=words):
        JobSpec.from_dict(data)


def test_a_bad_job_file_names_itself(tmp_path):
    (tmp_path / "job.toml").write_text("plugin = \n")
    with pytest.raises(SpecError, match="not a valid job file"):
        JobSpec.load(tmp_path / "job.toml")
    with pytest.raises(SpecError, match="cannot read the job file"):
        JobSpec.load(tmp_path / "missing.toml")


def test_prepare_binds_the_plugin_and_walks_lazily_and_workers_resolve_once():
    spec = JobSpec("wordcount", (str(SAMPLES),), recursive=True, backend="sequential", workers=8)
    prepared = spec.prepare()
    assert spec.resolved_workers() == 1  # sequential runs one item at a time, whatever was asked
    outcomes = list(run(prepared.task, prepared.items, **prepared.run_options()))
    assert outcomes and all(o.status is Status.OK for o in outcomes)
    assert not any(Path(o.item).suffix in (".jpg", ".png", ".webp") for o in outcomes)  # its own patterns


@pytest.mark.parametrize(("spec", "words"), [
    (JobSpec("no-such-plugin", ("x",)), "no-such-plugin"),
    (JobSpec("sha256", ()), "no input"),
    (JobSpec("sha256", ("x",), backend="warp"), "unknown backend"),
    (JobSpec("thumbnail", (str(SAMPLES),), {"size": "huge"}), "size"),
])
def test_prepare_says_what_is_wrong(spec, words):
    with pytest.raises(SpecError, match=words):
        spec.prepare()


def test_cli_saves_a_job_and_runs_it_again_from_the_file_with_overrides(tmp_path, capsys):
    job = tmp_path / "job.toml"
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["run", str(SAMPLES), "-r", "-p", "sha256", "-b", "threads", "-q",
                 "--save-spec", str(job), "-o", str(out1)]) == 0
    assert JobSpec.load(job).backend == "threads"
    assert main(["run", "--spec", str(job), "-b", "sequential", "-q", "-o", str(out2)]) == 0
    first = sorted(json.loads(line)["value"]["sha256"] for line in out1.read_text().splitlines())
    second = sorted(json.loads(line)["value"]["sha256"] for line in out2.read_text().splitlines())
    assert first == second and len(first) > 5
    assert "on sequential" in capsys.readouterr().err


def test_cli_without_plugin_or_spec_is_a_usage_error(capsys):
    assert main(["run", "x"]) == 2
    assert "--plugin" in capsys.readouterr().err
