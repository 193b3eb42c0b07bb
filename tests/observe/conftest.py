"""Observed programs are real scripts in ``programs/``, run by ``poolside observe`` as a user would."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import psutil
import pytest

from poolside.cli.main import main

PROGRAMS = Path(__file__).parent / "programs"


def observer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("poolside-observe", "poolside-usage")]


@pytest.fixture
def observe(tmp_path, monkeypatch):
    """``observe(program, *args)`` -> (exit code, the --json record), run through the CLI; afterwards no
    observer thread is left, and no process the observation started outlives it."""
    monkeypatch.chdir(PROGRAMS)  # the programs import _work from beside them
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    def run(program: str, *args: str) -> tuple[int, dict[str, Any]]:
        out = tmp_path / f"{program}.json"
        code = main(["observe", "--json", str(out), "--", sys.executable, str(PROGRAMS / program), *args])
        record = json.loads(out.read_text(encoding="utf-8"))
        assert observer_threads() == []
        left = {p.pid for p in psutil.Process().children(recursive=True)} - before
        assert not left, f"processes outlived the observation: {left}"
        return code, record

    return run


def roles(record: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(role, pool kind) of each process but the helpers and other children, sorted."""
    return sorted((p["role"], (p["pool"] or "").rsplit(" ", 1)[0] or None) for p in record["processes"]
                  if p["role"] in ("main", "worker"))
