"""Messages a user can act on, for what tasks do to their worker and for large values."""

from __future__ import annotations

import json
from pathlib import Path

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
