"""The preview of a run: items, output names and collisions, what the filter skips, a forecast from the
history; nothing run, nothing written.  ``poolside run --dry-run`` and the window's Preview print this."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from poolside import run
from poolside.history import RunRecorder
from poolside.preview import NO_HISTORY, NOT_MEASURED, OVERWRITE, REFUSE, RENAME, SKIP, WRITE, preview
from poolside.resources import samples
from poolside.spec import JobSpec, SpecError
from poolside.words.preview import forecast_line, preview_lines


@pytest.fixture
def images(tmp_path):
    """The bundled images, plus a PNG that shares a JPEG's stem, and a text file the filter skips."""
    folder = tmp_path / "images"
    with samples() as bundled:
        shutil.copytree(Path(bundled) / "images", folder)
    shutil.copy(folder / "icon.png", folder / "sunset.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def _tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_each_output_name_and_collision_is_listed_and_nothing_is_written(images, tmp_path):
    out = tmp_path / "thumbs"
    out.mkdir()
    (out / "harbour.png").write_bytes(b"an earlier thumbnail")
    before = _tree(tmp_path)
    spec = JobSpec("thumbnail", paths=(str(images),), recursive=True,
                   params={"out": str(out), "format": "png"})
    p = preview(spec)
    assert _tree(tmp_path) == before  # nothing written, not even a history
    assert p.items == 7 and p.policy == "rename" and p.names_known
    planned = {Path(o.item).name: o for o in p.outputs}
    assert planned["icon.png"].action == WRITE and planned["icon.png"].path == str(out / "icon.png")
    assert planned["harbour.jpg"].action == RENAME  # the file that is there already
    assert planned["harbour.jpg"].path == str(out / "harbour-1.png") and planned["harbour.jpg"].clash == ""
    # sunset.jpg and sunset.png both want sunset.png: the later in input order is renamed
    assert planned["sunset.jpg"].action == WRITE
    assert planned["sunset.png"].action == RENAME and planned["sunset.png"].clash.endswith("sunset.jpg")
    assert p.actions == {WRITE: 5, RENAME: 2} and p.collisions == 2
    assert p.skipped_items == [(str(images / "notes.txt"), "did not match the patterns")]
    text = "\n".join(preview_lines(p))
    assert "thumbnail: 7 items on processes" in text
    assert "Outputs: 5 new, 2 renamed." in text
    assert f"harbour.jpg → {out / 'harbour-1.png'} (renamed: harbour.png exists)" in text
    assert "(renamed: sunset.png is also " in text
    assert "Skipped by the filter (*.png" in text and "notes.txt (did not match the patterns)" in text


@pytest.mark.parametrize("policy, expected", [("skip", SKIP), ("overwrite", OVERWRITE)])
def test_the_policy_that_will_apply_is_the_one_shown(images, tmp_path, policy, expected):
    out = tmp_path / "thumbs"
    out.mkdir()
    (out / "icon.png").write_bytes(b"old")
    p = preview(JobSpec("thumbnail", paths=(str(images / "icon.png"),),
                        params={"out": str(out), "on_collision": policy}))
    assert [o.action for o in p.outputs] == [expected] and p.policy == policy


def test_overwriting_the_input_itself_is_shown_refused(images):
    p = preview(JobSpec("thumbnail", paths=(str(images / "icon.png"),),
                        params={"out": str(images), "on_collision": "overwrite"}))
    assert [o.action for o in p.outputs] == [REFUSE]


def test_an_item_whose_name_cannot_be_worked_out_says_why(images, tmp_path):
    bad = images / "broken.png"
    bad.write_bytes(b"not a png")
    p = preview(JobSpec("thumbnail", paths=(str(bad),), params={"out": str(tmp_path / "t")}))
    assert p.outputs[0].action == "unknown" and "cannot identify image file" in p.outputs[0].error
    assert "broken.png → no output (fails: " in "\n".join(preview_lines(p))


def test_a_plugin_without_outputs_lists_its_items(images):
    p = preview(JobSpec("sha256", paths=(str(images),), recursive=True))
    assert p.items == 8 and not p.output_folders and len(p.first_items) == 8
    assert "Items:" in preview_lines(p)


def test_a_job_that_cannot_run_is_a_spec_error_naming_every_bad_path(tmp_path):
    with pytest.raises(SpecError) as info:
        preview(JobSpec("sha256", paths=(str(tmp_path / "gone"), str(tmp_path))))
    assert "gone': no such file" in str(info.value) and "is a folder" in str(info.value)


def test_the_forecast_comes_from_this_jobs_last_run_on_this_configuration(images, tmp_path):
    spec = JobSpec("sha256", paths=(str(images),), recursive=True, backend="threads", workers=2)
    first = preview(spec)
    assert first.forecast is None and first.forecast_missing == NO_HISTORY
    assert forecast_line(first) == "No predicted duration: no study or run of this job in the history yet."
    prepared = spec.prepare()
    recorder = RunRecorder(spec, prepared.task)
    job = run(prepared.task, prepared.items, **prepared.run_options(), on_outcomes=recorder.on_outcomes)
    job.wait()
    recorder.finish(job.summary)
    p = preview(spec)
    assert p.forecast is not None and p.forecast_source == f"run {recorder.run_id}"
    assert p.forecast["items"] == 8 and p.forecast["config"]["backend"] == "threads"
    assert forecast_line(p).startswith("≈ ") and " on threads ×2" in forecast_line(p)
    # Another configuration was never measured for this job: no number is made up for it.
    other = preview(spec.replace(backend="processes"))
    assert other.forecast is None and other.forecast_missing == NOT_MEASURED


def test_the_history_is_not_created_by_a_preview(images):
    preview(JobSpec("sha256", paths=(str(images / "icon.png"),)))
    assert not any(Path(os.environ["POOLSIDE_HOME"]).iterdir())


def test_the_eta_starts_from_the_forecast_then_follows_the_measured_rate():
    from poolside.eta import eta_s

    assert eta_s(0, 100, 10.0, 190.0) == (180.0, True)
    assert eta_s(9, 100, 10.0, 190.0) == (180.0, True)  # under a tenth done: still the forecast
    assert eta_s(20, 100, 10.0, 190.0) == (40.0, False)  # 2 items/s measured, 80 left
    assert eta_s(0, 100, 10.0) == (None, False)  # no forecast, nothing done: nothing to go by
    assert eta_s(5, 0, 1.0, 9.0) == (None, False)  # the total is not known


def test_the_terminal_bar_says_a_predicted_eta(tmp_path):
    import io

    from poolside.cli.console import Console
    from poolside.inputs import expand
    from poolside.records import Summary

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for i in range(20):
        (tmp_path / f"{i}.txt").write_text("x")
    items = expand([tmp_path], recursive=True)
    assert len(list(items)) == 20 and items.done
    err = Terminal()
    console = Console(io.StringIO(), err, quiet=False, results_to_stdout=False)
    console.progress(Summary("threads", 2, counts={"ok": 1}, wall_s=5.0), items, forecast_s=65.0)
    assert "1/20" in err.getvalue() and "ETA 1:00 (predicted)" in err.getvalue()


def test_the_forecast_comes_from_a_study_of_this_job_that_measured_this_configuration(tmp_path):
    import json

    from poolside.history import record_study
    from poolside.words.preview import forecast_line

    record = json.loads((Path(__file__).parent / "study_data" / "grid_cpu.json").read_text())  # a real study
    for i in range(40):
        (tmp_path / f"{i}.txt").write_text("x")
    # The numbers of a real study (of burn), kept as a study of this primes job: what a forecast reads.
    spec = JobSpec("primes", paths=(str(tmp_path),), recursive=True, backend="processes", workers=4)
    study_id = record_study(spec, record)
    p = preview(spec)
    assert p.forecast_source == f"study {study_id}" and p.forecast is not None
    baseline = next(c for c in record["configs"] if c["backend"] == "sequential")
    per_item = baseline["median_s"] / record["items"]
    processes_4 = next(c for c in record["configs"] if c["backend"] == "processes" and c["workers"] == 4)
    expected = 40 * per_item / processes_4["speedup"] + processes_4["startup_s"]
    assert p.forecast["seconds"] == pytest.approx(expected, rel=0.1)
    assert p.forecast["sampled"] == record["items"] and p.forecast["low"] <= p.forecast["seconds"] <= p.forecast["high"]
    assert forecast_line(p).endswith(f"(the history's study {study_id})")
    # The study did not measure processes ×3: no number is made up for it.
    assert preview(spec.replace(workers=3)).forecast is None
