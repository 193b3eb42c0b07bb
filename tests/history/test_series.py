"""A run's CPU and memory series in the history: round trip, migration from schema 1, deleted with its run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from poolside.history import get_series, save_series, store


def _series(samples: int = 4096, cores: int = 2) -> dict:
    rng = np.random.default_rng(1)
    t = np.arange(samples) * 0.25
    procs = [{"pid": 100 + i, "role": "host" if i == 0 else "worker", "name": "python", "t": t,
              "cpu": rng.uniform(0, 100, samples), "rss": np.full(samples, 5e7), "uss": np.full(samples, np.nan)}
             for i in range(cores + 1)]
    return {"t": t, "user": rng.uniform(0, 100, samples), "system": rng.uniform(0, 10, samples),
            "tree_cpu": rng.uniform(0, 100, samples), "tree_rss": np.full(samples, 1e8),
            "tree_uss": np.full(samples, 9e7), "core_user": rng.uniform(0, 100, (samples, cores)),
            "core_system": rng.uniform(0, 10, (samples, cores)), "cores": cores, "origin": 12.5, "ended": 30.0,
            "peak_rss": 1e8, "peak_uss": 9e7, "peak_memory": 9e7, "interval_s": 0.25, "processes": procs}


def _run_row(conn: sqlite3.Connection) -> int:
    cur = conn.execute("INSERT INTO runs (kind, started_at, state, plugin, spec) "
                       "VALUES ('run', 0, 'finished', 'p', '{}')")
    return int(cur.lastrowid)


def test_a_series_round_trips(tmp_path: Path):
    conn = store.connect()
    run_id = _run_row(conn)
    series = _series()
    assert save_series(conn, run_id, series)
    back = get_series(conn, run_id)
    assert back is not None
    assert back["cores"] == 2 and back["interval_s"] == 0.25 and back["origin"] == 12.5
    assert back["core_user"].shape == (4096, 2)
    np.testing.assert_allclose(back["core_user"], series["core_user"], rtol=1e-6)
    np.testing.assert_allclose(back["t"], series["t"])
    assert [p["pid"] for p in back["processes"]] == [100, 101, 102]
    assert back["processes"][0]["role"] == "host"
    np.testing.assert_allclose(back["processes"][2]["cpu"], series["processes"][2]["cpu"], rtol=1e-6)
    assert np.isnan(back["processes"][1]["uss"]).all()
    assert get_series(conn, run_id + 1) is None


def test_a_series_goes_with_its_run_and_never_fails_a_save(tmp_path: Path):
    conn = store.connect()
    first, second = _run_row(conn), _run_row(conn)
    assert save_series(conn, first, _series(10)) and save_series(conn, second, _series(10))
    store.prune(conn, keep=1)
    assert conn.execute("SELECT run_id FROM run_series").fetchall() == [(second,)]
    assert not save_series(conn, first, _series(10))  # the run is gone: logged, not raised
    # A value JSON cannot hold is kept as its text (poolside.serialize.jsonable), never a lost series.
    assert save_series(conn, second, {"t": np.zeros(1), "odd": np.int64(3), "path": Path("/p")})
    back = get_series(conn, second)
    assert back is not None and (back["odd"], back["path"]) == (3, "/p")


def test_schema_1_is_migrated_keeping_its_runs(tmp_path: Path):
    path = store.db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(path)
    raw.executescript(store._MIGRATIONS[0])
    raw.execute("INSERT INTO runs (kind, started_at, state, plugin, spec) VALUES ('run', 1, 'finished', 'old', '{}')")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    conn = store.connect()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION >= 2
    assert [r["plugin"] for r in store.list_runs(conn)] == ["old"]
    assert save_series(conn, 1, _series(5))
    assert get_series(conn, 1)["t"].shape == (5,)
