"""One serialiser: every value a plugin setting, a study or a caller may hold becomes JSON the
same way in the history, ``compare --json``, exports and job files."""

from __future__ import annotations

import csv
import dataclasses
import enum
import json
import os
import tomllib
import types
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from poolside import serialize
from poolside.records import Summary
from poolside.serialize import dumps, jsonable, plain
from poolside.spec import JobSpec, SpecError
from tests.outcomes import failed, ok


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = 2


@dataclasses.dataclass
class Box:
    out: Path
    size: int


VALUES = {
    "path": (Path("/data/out"), "/data/out"),
    "pure path": (PurePosixPath("a/b"), "a/b"),
    "enum": (Mode.FAST, "fast"),
    "enum with a number": (Mode.SLOW, 2),
    "set": ({3, 1, 2}, [1, 2, 3]),
    "mixed set": (frozenset({1, "a"}), ["a", 1]),  # by repr: one order every time
    "dataclass": (Box(Path("/o"), 3), {"out": "/o", "size": 3}),
    "bytes": (b"\x00\xff", "00ff"),
    "numpy int": (np.int64(7), 7),
    "numpy float": (np.float32(0.5), 0.5),
    "numpy array": (np.arange(3), [0, 1, 2]),
    "mapping": (types.MappingProxyType({"k": Path("/p")}), {"k": "/p"}),
}


@pytest.mark.parametrize("name", VALUES)
def test_every_kind_of_value_becomes_json_the_same_way(name: str):
    value, expected = VALUES[name]
    assert json.loads(dumps({"v": value})) == {"v": expected}
    assert plain({"v": value}) == {"v": expected}


def test_an_object_json_knows_nothing_of_is_its_text_never_an_error():
    class Odd:
        def __str__(self) -> str:
            return "odd thing"

    assert jsonable(Odd()) == "odd thing"
    assert json.loads(dumps([Odd()])) == ["odd thing"]


def test_a_path_that_is_not_utf8_round_trips_through_the_history_json_exactly():
    name = os.fsdecode(b"/data/caf\xe9.jpg")  # a Latin-1 name: a surrogate escape
    assert json.loads(dumps({"p": Path(name)}))["p"] == name
    assert plain(Path(name)) == "/data/caf\\xe9.jpg"  # for people: printable


def test_a_job_file_holds_enums_sets_and_paths():
    spec = JobSpec("thumbnail", params={"out": Path("/o"), "mode": Mode.FAST, "sizes": {64, 32}})
    data = tomllib.loads(spec.to_toml())
    assert data["params"] == {"out": "/o", "mode": "fast", "sizes": [32, 64]}


def test_a_job_file_still_refuses_what_it_cannot_hold():
    with pytest.raises(SpecError, match="cannot hold"):
        JobSpec("thumbnail", params={"thing": object()}).to_toml()


# -- outcomes written to CSV, JSON and JSONL: every field in its column, any file name ----------------


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
