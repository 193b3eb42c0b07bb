"""Outcomes written to CSV, JSON and JSONL: every field in its column, any file name."""

from __future__ import annotations

import csv
import json
import os

import pytest

from poolside.records import Summary

pytest.importorskip("PySide6")

from poolside import serialize
from tests.outcomes import failed, ok


def test_export_csv_and_json_round_trip(tmp_path):
    rows = [ok(0, {"sha256": "ab", "status": "x"}), failed(1), ok(2, {"sha256": "cd"})]
    summary = Summary("threads", 2, {"ok": 2, "failed": 1, "timed_out": 0, "cancelled": 0}, 1.5, 0.2, True)
    n = serialize.write_file(tmp_path / "r.csv", rows, ["sha256", "status"])
    assert n == 3
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as f:
        back = list(csv.DictReader(f))
    assert [r["index"] for r in back] == ["0", "1", "2"]
    # A value key that clashes with a record field stays in the value column, never over the status.
    assert back[0]["sha256"] == "ab" and json.loads(back[0]["value"]) == {"status": "x"}
    assert back[0]["status"] == "ok"
    assert back[1]["error_type"] == "ValueError" and back[1]["error"] == "ValueError: bad 1"
    assert back[1]["traceback"].startswith("Traceback")
    serialize.write_file(tmp_path / "r.json", rows, [], summary)
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["summary"]["counts"]["failed"] == 1
    assert [r["value"] for r in doc["results"]] == [rows[0].value, None, rows[2].value]
    assert doc["results"][1]["error"] == "ValueError: bad 1"


def test_export_never_fails_on_a_file_name_that_is_not_utf8(tmp_path):
    name = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 name: a lone surrogate in Python
    rows = [ok(0, {"n": 1})._replace(item=tmp_path / name)]
    for ext in ("csv", "json", "jsonl"):
        assert serialize.write_file(tmp_path / f"r.{ext}", rows) == 1
        text = (tmp_path / f"r.{ext}").read_text(encoding="utf-8").replace("\\\\", "\\")
        assert "caf\\xe9.txt" in text  # the undecodable byte shown as \xe9, as the terminal shows it
