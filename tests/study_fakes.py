"""Study records and study clients for the window's tests (no Qt here).

Every record is a real study's: ``tests/study_data/*.json`` hold
``StudyResult.to_dict()`` of studies ``tests/study_data/make.py`` ran with
``poolside.compare``, read back with ``StudyResult.from_dict``.  What the
tests need beyond them is derived from their runs (a round is the first
``n`` runs of each configuration; ``timed`` scales a real configuration's
runs to another median), never written by hand.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

from poolside.study import Config, ConfigResult, Progress, Round, StudyResult
from poolside.study.recommend import fill_speedups

DATA = Path(__file__).parent / "study_data"


@functools.cache
def _stored(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def study_dict(name: str = "grid_cpu") -> dict[str, Any]:
    """A stored record as the history keeps it (``StudyResult.to_dict()``); a fresh copy each call."""
    return json.loads(json.dumps(_stored(name)))


def study(name: str = "grid_cpu") -> StudyResult:
    """``grid_cpu``: CPU work, threads/processes at 1, 2, 4 workers and mp-pools (processes win);
    ``grid_tie``: two configurations of sleeping work within noise (not significant)."""
    return StudyResult.from_dict(study_dict(name))


def config_of(record: StudyResult, backend: str, workers: int | None = None) -> ConfigResult:
    return next(c for c in record.configs
                if c.config.backend == backend and (workers is None or c.config.workers == workers))


def rounds(record: StudyResult) -> list[Round]:
    """The rounds the study would have told: each configuration's first ``n`` runs, speed-ups so far."""
    ran = [c for c in record.configs if c.runs]
    out = []
    for n in range(1, record.repeats + 1):
        snapshot = [dataclasses.replace(c, runs=c.runs[:n]) for c in ran]
        fill_speedups(snapshot)
        out.append(Round(n, record.repeats, snapshot))
    return out


def timed(config: ConfigResult, median_s: float) -> ConfigResult:
    """``config`` with its runs scaled so that their median is ``median_s`` (its spread kept)."""
    scale = median_s / config.median_s
    return dataclasses.replace(config, runs=[dataclasses.replace(r, wall_s=r.wall_s * scale, cpu_s=r.cpu_s * scale,
                                                                 busy_s=r.busy_s * scale) for r in config.runs])


def progress(config: Config | None, phase: str = "repeat", repeat: int = 1, done: int = 0,
             total: int = 8) -> Progress:
    return Progress(phase, config, repeat if phase == "repeat" else 0, 3, done, total, 0.0)


class FakeStudyClient:
    """Records what the window asks; the test plays the study's part with ``progress``/``round``/``finish``."""

    def __init__(self) -> None:
        self.plans: list[Any] = []
        self.cancels = 0
        self._callbacks: Any = None

    @property
    def running(self) -> bool:
        return self._callbacks is not None

    def start(self, plan, on_progress, on_round, on_finished) -> None:
        self.plans.append(plan)
        self._callbacks = (on_progress, on_round, on_finished)

    def cancel(self) -> None:
        self.cancels += 1

    def progress(self, p: Progress) -> None:
        self._callbacks[0](p)

    def round(self, r: Round) -> None:
        self._callbacks[1](r)

    def finish(self, record: StudyResult | None, error: str | None = None, history_error: str | None = None) -> None:
        callbacks, self._callbacks = self._callbacks, None
        callbacks[2](record, error, history_error)

    def play(self, record: StudyResult) -> None:
        """The whole study: a progress line before each configuration's repeat, its rounds, then the record."""
        done = 0
        for r in rounds(record):
            for c in r.configs:
                self.progress(progress(c.config, repeat=r.round, done=done, total=len(r.configs) * r.repeats))
                done += 1
            self.round(r)
        self.finish(record)


class FakeHistory:
    """The history read API over a list of records (what core/history would hold)."""

    def __init__(self) -> None:
        self.studies: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.entries: list[dict[str, Any]] = []

    def add_study(self, entry_id: str, record: dict[str, Any] | StudyResult, started: float) -> None:
        data = record.to_dict() if isinstance(record, StudyResult) else record
        self.studies[entry_id] = data
        self.entries.append({"id": entry_id, "kind": "study", "started": started, "plugin": data["plugin"],
                             "status": "finished", "wall_s": 30.0,
                             "summary": f"{len(data['configs'])} configurations"})

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


#: Backends the wide studies of the benchmarks spread their configurations over.
WIDE_BACKENDS = ("threads", "processes", "mp-pool", "thread-executor", "process-executor", "dask")


def wide(n: int, wobble: int = 0) -> list[ConfigResult]:
    """``n`` configurations for the window's benchmarks: the stored study's, under ``n`` distinct names.

    The baseline first, then the stored configurations' runs in turn, each under a
    backend, worker count and chunk size of its own and scaled to a median that
    varies with ``i`` (and with ``wobble``, as one round differs from the next).
    """
    record = study()
    base = config_of(record, "sequential")
    parallel = [c for c in record.configs if not c.config.sequential and c.runs]
    out = [timed(base, 2.0)]
    for i in range(n - 1):
        workers = 1 << (i // len(WIDE_BACKENDS)) % 4
        chunk: int | str = "auto" if i < 4 * len(WIDE_BACKENDS) else 8 * (1 + i // (4 * len(WIDE_BACKENDS)))
        noise = 1 + 0.03 * ((i * 7 + wobble * 3) % 5 - 2) if wobble else 1.0
        source = parallel[i % len(parallel)]
        out.append(dataclasses.replace(timed(source, 2.0 / (1 + (i % 7) * 0.15) * noise),
                                       config=Config(WIDE_BACKENDS[i % len(WIDE_BACKENDS)], workers, chunk)))
    fill_speedups(out)
    return out
