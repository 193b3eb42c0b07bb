"""``poolside run|compare --address --files``: the Dask cluster's flags, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from poolside.cli import main
from poolside.spec import JobSpec

pytest.importorskip("distributed")


def _files(folder: Path) -> str:
    (folder / "in").mkdir()
    for i in range(3):
        (folder / "in" / f"f{i}.txt").write_text(f"line {i}\n")
    return str(folder / "in")


def test_the_flags_need_the_dask_backend(tmp_path, capsys):
    assert main(["run", _files(tmp_path), "-r", "-p", "sha256", "--address", "tcp://h:8786"]) == 2
    assert "--address needs --backend dask" in capsys.readouterr().err


def test_a_malformed_address_is_refused_at_once_saying_why(tmp_path, capsys):
    assert main(["run", _files(tmp_path), "-r", "-p", "sha256", "--backend", "dask", "--address", "nonsense://h"]) == 2
    err = capsys.readouterr().err
    assert "running on the Dask cluster at nonsense://h; files: shared storage" in err
    assert "is not a Dask scheduler address (like tcp://HOST:8786)" in err


def test_a_job_file_on_a_cluster_runs_on_another_backend_without_it(tmp_path, capsys):
    folder = _files(tmp_path)
    JobSpec("sha256", paths=(folder,), recursive=True, backend="dask",
            backend_options={"address": "tcp://h:8786", "files": "shipped"}).save(tmp_path / "job.toml")
    assert main(["run", "--spec", str(tmp_path / "job.toml"), "--backend", "threads", "-q"]) == 0
    assert "3 ok" in capsys.readouterr().err
