"""The bundled samples from any folder (``run --samples``, ``samples DEST``) and ``-v``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources.abc import Traversable

from poolside.cli import main
from poolside.resources import resource


def _files(node: Traversable, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for child in node.iterdir():
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            out.update(_files(child, f"{prefix}{child.name}/"))
        else:
            out[prefix + child.name] = child.read_bytes()
    return out


SAMPLES = _files(resource("samples"))


def test_run_samples_works_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # nowhere near the checkout
    out = tmp_path / "hashes.jsonl"
    assert main(["run", "--samples", "--plugin", "sha256", "--backend", "threads", "-o", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(SAMPLES) >= 10
    assert {r["status"] for r in records} == {"ok"}
    assert f"{len(SAMPLES)} items ({len(SAMPLES)} ok)" in capsys.readouterr().err


def test_samples_dest_copies_every_sample_and_refuses_a_full_folder(tmp_path, capsys):
    dest = tmp_path / "mine"
    assert main(["samples", str(dest)]) == 0
    copied = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert copied == SAMPLES
    assert f"copied {len(SAMPLES)} sample files" in capsys.readouterr().out
    assert main(["samples", str(dest)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err


def test_no_input_suggests_samples(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--plugin", "sha256"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_verbose_prints_the_engine_lifecycle(tmp_path):  # silent without: see test_log.py
    env = {k: v for k, v in os.environ.items() if k != "POOLSIDE_LOG"}

    def poolside(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "poolside", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stderr

    command = ("run", "--samples", "-p", "sha256", "-b", "processes", "-w", "2", "-q")
    verbose = poolside(*command, "-v")
    assert "INFO    poolside.engine" in verbose and "run started: processes x2" in verbose
    assert "DEBUG" not in verbose
    assert "DEBUG   poolside.backends.processes" in poolside("-vv", *command)
