"""``poolside compare``: the table, the verdict and the JSON record; usage errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

from poolside.cli import main


def _files(folder: Path, n: int = 24) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"f{i:02}.txt").write_text("word " * (50 + i))
    return folder


def test_compare_prints_a_ranked_table_and_writes_the_study(tmp_path: Path, capsys):
    data = _files(tmp_path / "data")
    out = tmp_path / "study.json"
    code = main(["compare", str(data), "-r", "--plugin", "sha256", "--backends", "threads",
                 "--workers", "1,2,4", "--repeats", "2", "--predict-workers", "32,64", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "configuration" in text and "speed-up" in text and "use: " in text and "why: " in text
    record = json.loads(out.read_text())
    assert record["plugin"] == "sha256" and record["items"] == 24
    assert {(c["backend"], c["workers"]) for c in record["configs"]} == {
        ("sequential", 1), ("threads", 1), ("threads", 2), ("threads", 4)}
    assert all(len(c["wall_s"]) == 2 and c["ok"] == 24 for c in record["configs"])
    assert record["recommendation"]["why"]
    assert record["scaling"]["series"]["threads"][0]["workers"] == 1  # workers varied: a scaling curve
    model = record["scaling"]["model"]  # over three counts: the scaling model, and its predictions
    assert model["kind"] == "usl" and {"sigma", "kappa", "peak_workers", "retrograde"} <= set(model)
    predictions = record["scaling"]["predictions"]
    assert [(p["backend"], p["workers"]) for p in predictions] == [("threads", 32), ("threads", 64)]
    assert all(p["low"] <= p["speedup"] <= p["high"] for p in predictions)
    assert "predicted: threads ×32 ≈ " in text and "scaling model, threads: contention σ = " in text
    assert record["forecast"]["items"] == 24 and "forecast: 24 items ≈ " in text
    assert isinstance(record["seed"], int) and len(record["item_s"]) == 24


def test_compare_usage_errors(tmp_path: Path, capsys):
    data = _files(tmp_path / "data", 3)
    assert main(["compare", str(data), "-r", "--plugin", "sha256", "--backends", "nope"]) == 2
    assert "unknown backend 'nope'" in capsys.readouterr().err
    assert main(["compare", str(data), "-r", "--plugin", "sha256", "--max-memory", "lots"]) == 2
    assert "'lots' is not a size" in capsys.readouterr().err
    assert main(["compare", str(data), "-r", "--plugin", "sha256", "--predict-workers", "0,8"]) == 2
    assert "--predict-workers" in capsys.readouterr().err
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:9/x\n")
    assert main(["compare", str(urls), "--plugin", "fetch"]) == 2  # stdin is not a terminal: --yes needed
    assert "--yes" in capsys.readouterr().err


def test_compare_writes_the_winner_as_a_script_over_every_item(tmp_path: Path, capsys):
    import subprocess
    import sys

    data = _files(tmp_path / "data", 30)
    script = tmp_path / "winner.py"
    code = main(["compare", str(data), "-r", "--plugin", "sha256", "--sample", "20", "--backends", "threads",
                 "--workers", "2", "--repeats", "2", "--snippet", str(script)])
    assert code == 0
    assert f"script: {script}" in capsys.readouterr().err
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(line["item"] for line in lines) == sorted(str(p) for p in data.iterdir())  # all 30, not the sample
    assert all(len(line["value"]["sha256"]) == 64 for line in lines)
