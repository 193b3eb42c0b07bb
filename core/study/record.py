"""The study's records: what one run measured, what a configuration accumulated, the whole study.

    engine run ──► RunNumbers (wall, CPU, busy, counts, start-up, peak, GIL)   one timed run
    RunNumbers ×repeats ──► ConfigResult (times, spread, speed-up, ...)       one configuration
    ConfigResult ×configs + diagnosis + recommendation + scaling + forecast
                                            ──► StudyResult        .to_dict(): the JSON

``StudyResult`` is the one record everybody reads: ``poolside.compare``
returns it, the study host sends it to the window, ``poolside compare --json``
writes its ``to_dict()``, the history stores that dict and whoever reads it
back calls ``StudyResult.from_dict`` once.  ``from_dict(r.to_dict()) == r``:
the dict carries every measured number (each run, the warm-up, the lead, the
notes); the derived numbers in it (``median_s``, ``cores_used``...) are there
for readers of the JSON and are worked out again from the runs, never read
back.  Numbers only; the front ends word them (``poolside.words``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .forecast import Forecast
from .plan import Config
from .stats import Lead, Spread, spread, warnings_for


@dataclass
class RunNumbers:
    """One engine run of the sample under one configuration."""

    wall_s: float
    cpu_s: float
    busy_s: float  #: sum of the items' own run times (wall clock, per item)
    counts: dict[str, int]
    startup_s: float | None = None  #: run start to the first item started
    peak_mb: float | None = None
    gil: bool | None = None  #: threads busy while the process used about one core
    parent_mb: float | None = None  #: the parent's largest USS (decimal MB)
    worker_mb: float | None = None  #: the largest USS of one worker process (None: in-process, or unread)

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def busy_workers(self) -> float:
        return self.busy_s / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "busy_s": self.busy_s, "counts": dict(self.counts),
                "startup_s": self.startup_s, "peak_mb": self.peak_mb, "gil": self.gil,
                "parent_mb": self.parent_mb, "worker_mb": self.worker_mb}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunNumbers:
        return cls(float(data["wall_s"]), float(data["cpu_s"]), float(data.get("busy_s") or 0.0),
                   {str(k): int(v) for k, v in (data.get("counts") or {}).items()},
                   _float(data.get("startup_s")), _float(data.get("peak_mb")), data.get("gil"),
                   _float(data.get("parent_mb")), _float(data.get("worker_mb")))


@dataclass
class ConfigResult:
    config: Config
    runs: list[RunNumbers] = field(default_factory=list)  #: timed repeats, in the order they ran
    warmup: RunNumbers | None = None  #: the untimed first run (cold start-up, peak memory)
    probe_s: float | None = None  #: auto mode's decision run, not a repeat
    error: str | None = None  #: why this configuration could not run
    speedup: float = 0.0
    efficiency: float = 0.0

    @property
    def wall_s(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    @property
    def spread(self) -> Spread:
        return spread(self.wall_s)

    @property
    def median_s(self) -> float:
        return self.spread.median

    @property
    def cpu_s(self) -> float:
        cpus = sorted(r.cpu_s for r in self.runs)
        return cpus[len(cpus) // 2] if cpus else 0.0

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.median_s if self.median_s > 0 else 0.0

    @property
    def busy_workers(self) -> float:
        busy = sorted(r.busy_s for r in self.runs)
        return busy[len(busy) // 2] / self.median_s if busy and self.median_s > 0 else 0.0

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.runs[-1].counts) if self.runs else {}

    @property
    def complete(self) -> bool:
        """Every item ok in every repeat: only such a configuration can win."""
        return bool(self.runs) and self.error is None and all(
            r.counts.get("ok", 0) == sum(r.counts.values()) for r in self.runs)

    @property
    def peak_mb(self) -> float | None:
        peaks = [r.peak_mb for r in [*self.runs, self.warmup] if r is not None and r.peak_mb is not None]
        return max(peaks) if peaks else None

    @property
    def parent_mb(self) -> float | None:
        """The parent's largest USS over every run (MB): what the job costs where it is started."""
        return _largest(r.parent_mb for r in [*self.runs, self.warmup] if r is not None)

    @property
    def worker_mb(self) -> float | None:
        """The largest USS of one worker process over every run (MB): what each added worker costs."""
        return _largest(r.worker_mb for r in [*self.runs, self.warmup] if r is not None)

    @property
    def peak_bytes(self) -> float | None:
        """``peak_mb`` in bytes: the record keeps decimal megabytes (bytes / 1e6)."""
        return None if self.peak_mb is None else self.peak_mb * 1e6

    @property
    def startup_s(self) -> float | None:
        return self.warmup.startup_s if self.warmup is not None else None

    @property
    def gil(self) -> bool | None:
        signals = [r.gil for r in self.runs if r.gil is not None]
        return (sum(signals) * 2 > len(signals)) if signals else None

    def warnings(self) -> list[str]:
        return warnings_for(self.wall_s)

    def speedup_range(self) -> tuple[float, float]:
        """The speed-up of the slowest and of the fastest repeat (a chart's whisker)."""
        s = self.spread
        base = s.median * self.speedup  # the sequential median the speed-up is against
        return (base / s.max if s.max > 0 else 0.0, base / s.min if s.min > 0 else 0.0)

    @property
    def problems(self) -> int:
        """Items of the last repeat that did not end ok."""
        counts = self.counts
        return sum(counts.get(k, 0) for k in ("failed", "timed_out", "cancelled"))

    def to_dict(self) -> dict[str, Any]:
        s = self.spread
        counts = self.counts
        return {
            **self.config.to_dict(),
            "wall_s": [round(t, 6) for t in self.wall_s],
            "median_s": round(s.median, 6), "mad_s": round(s.mad, 6),
            "min_s": round(s.min, 6), "max_s": round(s.max, 6),
            "speedup": self.speedup, "efficiency": self.efficiency,
            "startup_s": _round(self.startup_s), "cpu_s": round(self.cpu_s, 6),
            "peak_mb": _round(self.peak_mb, 1),
            "parent_mb": _round(self.parent_mb, 1), "worker_mb": _round(self.worker_mb, 1),
            **{k: counts.get(k, 0) for k in ("ok", "failed", "timed_out", "cancelled")},
            "cores_used": round(self.cores_used, 3), "busy_workers": round(self.busy_workers, 3),
            "gil": self.gil, "warnings": self.warnings(), "probe_s": self.probe_s,
            "error": self.error,
            "runs": [r.to_dict() for r in self.runs],
            "warmup": None if self.warmup is None else self.warmup.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfigResult:
        """The record ``to_dict`` wrote; the derived numbers in it are not read (the runs give them)."""
        runs = [RunNumbers.from_dict(r) for r in data["runs"]] if "runs" in data else _legacy_runs(data)
        warmup = data.get("warmup")
        return cls(Config.from_dict(dict(data)), runs, None if warmup is None else RunNumbers.from_dict(warmup),
                   _float(data.get("probe_s")), data.get("error"),
                   float(data.get("speedup") or 0.0), float(data.get("efficiency") or 0.0))


@dataclass(frozen=True)
class Diagnosis:
    kind: str  #: cpu-gil, cpu-parallel, waiting, overhead or mixed
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "evidence": self.evidence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        return cls(str(data["kind"]), dict(data.get("evidence") or {}))


@dataclass(frozen=True)
class Recommendation:
    config: Config
    speedup: float
    why: str
    #: The numbers ``why`` was built from (the window builds its own words from them).
    reasons: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.config.to_dict(), "speedup": self.speedup, "why": self.why, "reasons": self.reasons}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recommendation:
        return cls(Config.from_dict(dict(data)), float(data.get("speedup") or 0.0), str(data.get("why") or ""),
                   dict(data.get("reasons") or {}))


@dataclass
class StudyResult:
    plugin: str
    params: dict[str, Any]
    items: int  #: the sample's size
    total_items: int  #: how many items the job has in all
    machine: dict[str, Any]
    configs: list[ConfigResult]
    repeats: int
    mode: str  #: "auto" or "grid"
    diagnosis: Diagnosis | None = None
    recommendation: Recommendation | None = None
    lead: Lead | None = None
    scaling: dict[str, Any] = field(default_factory=dict)
    #: Things the reader should know (codes with numbers): the sample shrunk, configurations dropped...
    notes: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    elapsed_s: float = 0.0
    budget_s: float | None = None
    poolside: str = ""
    seed: int | None = None  #: picked the sample and each round's order of configurations
    #: The sampling pass's time per item, sequentially, in the sample's order of running.
    item_s: list[float] = field(default_factory=list)
    #: The whole job's predicted wall time on the recommendation (kept with the job, for the Run tab).
    forecast: Forecast | None = None

    @property
    def significant(self) -> bool:
        return bool(self.lead and self.lead.significant)

    @property
    def physical_cores(self) -> int | None:
        physical = self.machine.get("physical")
        return int(physical) if physical else None

    def ranked(self) -> list[ConfigResult]:
        """Configurations that ran, fastest median first; those with an error last."""
        ran = sorted((c for c in self.configs if c.runs), key=lambda c: c.median_s)
        return ran + [c for c in self.configs if not c.runs]

    def to_dict(self) -> dict[str, Any]:
        """The JSON: configurations in the order they were measured, baseline first (``ranked()`` sorts)."""
        rec, lead = self.recommendation, self.lead
        return {
            "plugin": self.plugin, "params": self.params, "items": self.items, "poolside": self.poolside,
            "machine": self.machine,
            "configs": [c.to_dict() for c in self.configs],
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
            "recommendation": None if rec is None else rec.to_dict(),
            "significant": self.significant,
            "lead": None if lead is None else {
                "ratio": lead.ratio, "ci_low": lead.ci_low, "ci_high": lead.ci_high, "p_value": lead.p_value,
                "repeats": lead.repeats, "significant": lead.significant},
            "scaling": self.scaling, "notes": self.notes, "total_items": self.total_items,
            "repeats": self.repeats, "mode": self.mode, "cancelled": self.cancelled,
            "elapsed_s": self.elapsed_s, "budget_s": self.budget_s, "seed": self.seed,
            "item_s": list(self.item_s),
            "forecast": None if self.forecast is None else self.forecast.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudyResult:
        """The record ``to_dict`` wrote (the history's, a file's); derived fields (``significant``) are not read."""
        diagnosis, rec, lead = data.get("diagnosis"), data.get("recommendation"), data.get("lead")
        return cls(
            str(data.get("plugin") or ""), dict(data.get("params") or {}), int(data.get("items") or 0),
            int(data.get("total_items") or data.get("items") or 0), dict(data.get("machine") or {}),
            [ConfigResult.from_dict(c) for c in data.get("configs") or ()], int(data.get("repeats") or 0),
            str(data.get("mode") or "grid"),
            None if not diagnosis else Diagnosis.from_dict(diagnosis),
            None if not rec else Recommendation.from_dict(rec),
            None if not lead else Lead(float(lead["ratio"]), float(lead["ci_low"]), float(lead["ci_high"]),
                                       float(lead["p_value"]), int(lead["repeats"]),
                                       bool(lead.get("significant", data.get("significant")))),
            dict(data.get("scaling") or {}), [dict(n) for n in data.get("notes") or ()],
            bool(data.get("cancelled")), float(data.get("elapsed_s") or 0.0), _float(data.get("budget_s")),
            str(data.get("poolside") or ""), None if data.get("seed") is None else int(data["seed"]),
            [float(t) for t in data.get("item_s") or ()],
            None if not data.get("forecast") else Forecast.from_dict(dict(data["forecast"])))


def fastest_first(configs: Iterable[ConfigResult]) -> list[ConfigResult]:
    """By speed-up against the baseline, the highest first (the order the window draws them in)."""
    return sorted(configs, key=lambda c: -c.speedup)


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _largest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _legacy_runs(data: Mapping[str, Any]) -> list[RunNumbers]:
    """A record written before the runs were kept: one run per wall time, CPU and counts as the record says."""
    counts = {k: int(data.get(k) or 0) for k in ("ok", "failed", "timed_out", "cancelled")}
    cpu, busy = float(data.get("cpu_s") or 0.0), float(data.get("busy_workers") or 0.0)
    return [RunNumbers(float(w), cpu, busy * float(w), dict(counts)) for w in data.get("wall_s") or ()]
