"""Study records and study clients for the window's tests (no Qt here: child processes import it)."""

from __future__ import annotations

import os
from typing import Any


def config(backend: str, workers: int, median: float, base: float = 2.0, *, chunk: Any = "auto",
           method: str | None = None, spread: float = 0.04) -> dict[str, Any]:
    """A configuration record as the study engine writes it (issue 10)."""
    walls = [median * (1 - spread), median, median * (1 + spread)]
    return {
        "backend": backend, "workers": workers, "chunk_size": chunk, "method": method,
        "wall_s": walls, "median_s": median, "mad_s": median * spread, "min_s": min(walls), "max_s": max(walls),
        "speedup": base / median, "efficiency": base / median / workers, "startup_s": 0.02 * workers,
        "cpu_s": base * 1.05, "peak_mb": 40.0 * workers, "ok": 40, "failed": 0, "timed_out": 0, "cancelled": 0,
        "timeline": [[w % workers, 0.05 * i, 0.045, "ok"] for i, w in enumerate(range(8))],
    }


def study(*, significant: bool = True, vary_workers: bool = True) -> dict[str, Any]:
    """A finished study of a pure-Python task on 2 cores: processes ×2 wins."""
    configs = [
        config("sequential", 1, 2.0),
        config("threads", 2, 1.98),
        config("processes", 2, 1.04),
        config("mp-pool", 2, 1.10, chunk=8, method="imap"),
    ]
    if vary_workers:
        configs += [config("threads", 1, 2.02), config("processes", 1, 2.05), config("threads", 4, 2.01),
                    config("processes", 4, 1.07)]
    return {
        "plugin": "wordcount", "params": {}, "items": 40, "poolside": "test",
        "machine": {"logical": 2, "physical": 2, "cpu": "test", "python": "3.11", "os": "linux"},
        "configs": configs,
        "diagnosis": {"kind": "cpu-gil", "evidence": {"cpu_per_wall": 0.99, "threads_speedup": 1.01}},
        "recommendation": {"backend": "processes", "workers": 2, "chunk_size": "auto", "method": None,
                           "speedup": 2.0 / 1.04,
                           "why": "pure-Python CPU work: on threads the process used 1.0 core of 2 (the GIL); "
                                  "processes ×2 ran 1.92× faster than sequential"},
        "significant": significant,
    }


class FakeStudyClient:
    """Records what the window asks; the test plays the study's part by calling ``progress``/``result``/``finish``."""

    def __init__(self) -> None:
        self.plans: list[dict[str, Any]] = []
        self.cancels = 0
        self._callbacks: Any = None

    @property
    def running(self) -> bool:
        return self._callbacks is not None

    def start(self, plan, on_progress, on_result, on_finished, on_round=None) -> None:
        self.plans.append(plan)
        self._callbacks = (on_progress, on_result, on_finished, on_round)

    def cancel(self) -> None:
        self.cancels += 1

    def progress(self, label: str, repeat: int, done: int, total: int) -> None:
        self._callbacks[0]({"label": label, "repeat": repeat, "repeats": 3, "done": done, "total": total})

    def result(self, cfg: dict[str, Any]) -> None:
        self._callbacks[1](cfg)

    def round(self, n: int, configs: list[dict[str, Any]], repeats: int = 3) -> None:
        self._callbacks[3]({"round": n, "repeats": repeats, "configs": configs})

    def finish(self, record: dict[str, Any] | None, error: str | None = None) -> None:
        callbacks, self._callbacks = self._callbacks, None
        callbacks[2](record, error)

    def play(self, record: dict[str, Any]) -> None:
        """The whole study: a progress line and a result per configuration, then the record."""
        n = len(record["configs"])
        for i, cfg in enumerate(record["configs"]):
            self.progress(f"{cfg['backend']} ×{cfg['workers']}", 1, i, n)
            self.result(cfg)
        self.finish(record)


def scripted_study(plan: dict[str, Any], events: Any, cancel: Any) -> None:
    """A study process's part without the engine: two configurations, then the record (with its pid)."""
    record = study(vary_workers=False)
    record["pid"] = os.getpid()
    record["plan_mode"] = plan["mode"]
    for i, cfg in enumerate(record["configs"][:2]):
        events.put(("progress", {"label": cfg["backend"], "repeat": 1, "repeats": 3, "done": i, "total": 2}))
        events.put(("result", cfg))
    events.put(("finished", record, None))


def waiting_study(plan: dict[str, Any], events: Any, cancel: Any) -> None:
    """A study process that measures one configuration, then waits to be cancelled (bounded)."""
    events.put(("result", study()["configs"][0]))
    events.put(("progress", {"label": "pid", "repeat": os.getpid(), "repeats": 0, "done": 1, "total": 4}))
    cancel.wait(120)
    events.put(("finished", None, None))


class FakeHistory:
    """The history read API over a list of records (what core/history would hold)."""

    def __init__(self) -> None:
        self.studies: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.entries: list[dict[str, Any]] = []

    def add_study(self, entry_id: str, record: dict[str, Any], started: float) -> None:
        self.studies[entry_id] = record
        self.entries.append({"id": entry_id, "kind": "study", "started": started, "plugin": record["plugin"],
                             "status": "finished", "wall_s": 30.0,
                             "summary": f"{len(record['configs'])} configurations"})

    def add_run(self, entry_id: str, run: dict[str, Any]) -> None:
        self.runs[entry_id] = {"id": entry_id, **run}
        self.entries.append({"id": entry_id, "kind": "run", "started": run["started"], "plugin": run["plugin"],
                             "status": run["status"], "wall_s": run["wall_s"]})

    def list_entries(self, plugin: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.entries if plugin is None or e["plugin"] == plugin]

    def get_study(self, entry_id: str) -> dict[str, Any]:
        return self.studies[entry_id]

    def get_run(self, entry_id: str) -> dict[str, Any]:
        return self.runs[entry_id]


def run_record(plugin: str, paths: list[str], *, backend: str = "threads", workers: int = 2, wall: float = 2.0,
               status: str = "finished", failed: list[str] = (), pending: list[str] = (),
               started: float = 1_000.0) -> dict[str, Any]:
    spec = {"version": 1, "plugin": plugin, "paths": list(paths), "backend": backend, "workers": workers}
    ok = len(paths) - len(failed) - len(pending)
    return {"started": started, "plugin": plugin, "status": status, "spec": spec, "backend": backend,
            "workers": workers, "total": len(paths), "wall_s": wall, "cpu_s": wall * 0.9,
            "counts": {"ok": ok, "failed": len(failed), "cancelled": len(pending)},
            "insights": {"busy_fraction": 0.8}, "failed_items": list(failed), "pending_items": list(pending)}
