"""Messages a user can act on, for what tasks do to their worker and for large values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poolside.cli import main
from tests import PLUGIN_FILES

TASKS = Path(PLUGIN_FILES) / "message_tasks.py"


def _files(folder: Path, *names: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)
    return [str(folder / name) for name in names]


def test_a_huge_value_prints_a_short_line_and_output_has_it_all(tmp_path, capsys):
    [item] = _files(tmp_path, "a.txt")
    out = tmp_path / "out.jsonl"
    assert main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential"]) == 0
    printed = capsys.readouterr().out
    assert len(printed) < 1000
    assert "50.0 MiB of bytes in all; the full value is written by --output" in printed
    assert main(["run", item, "-p", f"{TASKS}:big_bytes", "-b", "sequential", "-o", str(out)]) == 0
    record = json.loads(out.read_text().splitlines()[0])
    assert len(json.dumps(record)) > 50 * 1024 * 1024


def test_a_task_that_sets_a_tight_recursion_limit_fails_with_that_cause(tmp_path, capsys):
    items = _files(tmp_path, "a.txt", "b1.txt", "b2.txt", "b3.txt")
    out = tmp_path / "out.jsonl"
    code = main(["run", *items, "-p", f"{TASKS}:tight_recursion", "-b", "processes", "-w", "1",
                 "-o", str(out)])
    assert code == 1
    records = {Path(r["item"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["a.txt"]["status"] == "failed"
    assert "the task set the recursion limit to " in records["a.txt"]["error"]
    assert "too low for the worker process to go on" in records["a.txt"]["error"]
    assert all(records[f"b{i}.txt"]["status"] == "ok" for i in (1, 2, 3))


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_a_task_that_changes_directory_does_not_lose_the_next_items(backend, tmp_path, monkeypatch, capsys):
    _files(tmp_path / "in", "a.txt", "b.txt", "c.txt")
    monkeypatch.chdir(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    code = main(["run", "a.txt", "b.txt", "c.txt", "-p", f"{TASKS}:chdir_away", "-b", backend,
                 "-w", "1", "--chunk-size", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["item"], r["status"]) for r in records) == [
        ("a.txt", "ok"), ("b.txt", "ok"), ("c.txt", "ok")]
