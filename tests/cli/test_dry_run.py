"""``poolside run --dry-run``: what the run would do on stdout, nothing run or written, exit 0."""

from __future__ import annotations

import shutil
from pathlib import Path

from poolside.cli import main
from poolside.resources import samples


def _images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    with samples() as bundled:
        shutil.copytree(Path(bundled) / "images", folder)
    (folder / "readme.txt").write_text("skipped by the filter")
    return folder


def test_dry_run_lists_outputs_collisions_and_skips_and_writes_nothing(tmp_path, capsys):
    images = _images(tmp_path)
    out = tmp_path / "thumbs"
    out.mkdir()
    (out / "icon.png").write_bytes(b"earlier")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(["run", str(images), "-r", "-p", "thumbnail", "--param", f"out={out}",
                 "--param", "on_collision=skip", "-o", str(tmp_path / "records.csv"), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no record file, no thumbnails
    lines = captured.out.splitlines()
    assert lines[0].startswith("thumbnail: 6 items on processes")
    assert "on a name that is taken: skip" in captured.out
    assert "Outputs: 5 new, 1 skipped." in captured.out
    assert f"icon.png → {out / 'icon.png'} (skipped: icon.png exists)" in captured.out
    assert "readme.txt (did not match the patterns)" in captured.out
    assert captured.err.strip().endswith("dry run: nothing was run or written")


def test_dry_run_names_every_bad_path_as_a_run_would(tmp_path, capsys):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert main(["run", str(tmp_path / "link"), str(tmp_path / "gone"), "-p", "sha256", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "link' is a broken link" in err and "gone': no such file or folder" in err


def test_dry_run_does_not_save_a_spec_or_resume(tmp_path, capsys):
    job = tmp_path / "job.toml"
    assert main(["run", str(tmp_path), "-r", "-p", "sha256", "--dry-run", "--save-spec", str(job)]) == 2
    assert not job.exists() and "leave out --save-spec" in capsys.readouterr().err


def test_dry_run_sample_predicts_from_a_few_items_and_keeps_no_output_or_record(tmp_path, capsys):
    import os

    images = _images(tmp_path)
    out = tmp_path / "thumbs"
    assert main(["run", str(images), "-r", "-p", "thumbnail", "--param", f"out={out}", "-b", "threads",
                 "-w", "2", "--dry-run", "--sample"]) == 0
    forecast = capsys.readouterr().out.splitlines()[1]
    assert forecast.startswith("≈ ") and " on threads ×2" in forecast
    assert "(a sample of this job run just now, outputs discarded)" in forecast
    assert not out.exists()  # the sample's thumbnails went to a scratch folder, deleted
    assert not any(Path(os.environ["POOLSIDE_HOME"]).iterdir())  # and nothing is in the history


def test_sample_goes_with_dry_run(tmp_path, capsys):
    assert main(["run", str(tmp_path), "-r", "-p", "sha256", "--sample"]) == 2
    assert "--sample goes with --dry-run" in capsys.readouterr().err
