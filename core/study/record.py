"""The study's records: what one run measured, what a configuration accumulated, the whole study.

    engine run ──► RunNumbers (wall, CPU, busy, counts, start-up, peak, GIL)   one timed run
    RunNumbers ×repeats ──► ConfigResult (times, spread, speed-up, ...)       one configuration
    ConfigResult ×configs + diagnosis + recommendation ──► StudyResult        .to_dict(): the JSON

``StudyResult.to_dict()`` is the one shape everybody sees: ``poolside.compare``
returns the object, ``poolside compare --json`` writes its dict, the history
stores it.  Numbers only; the front ends word them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def busy_workers(self) -> float:
        return self.busy_s / self.wall_s if self.wall_s > 0 else 0.0


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
    def startup_s(self) -> float | None:
        return self.warmup.startup_s if self.warmup is not None else None

    @property
    def gil(self) -> bool | None:
        signals = [r.gil for r in self.runs if r.gil is not None]
        return (sum(signals) * 2 > len(signals)) if signals else None

    def warnings(self) -> list[str]:
        return warnings_for(self.wall_s)

    def to_dict(self) -> dict[str, Any]:
        s = self.spread
        counts = self.counts
        return {
            **self.config.to_dict(),
            "wall_s": [round(t, 6) for t in self.wall_s],
            "median_s": round(s.median, 6), "mad_s": round(s.mad, 6),
            "min_s": round(s.min, 6), "max_s": round(s.max, 6),
            "speedup": round(self.speedup, 4), "efficiency": round(self.efficiency, 4),
            "startup_s": _round(self.startup_s), "cpu_s": round(self.cpu_s, 6),
            "peak_mb": _round(self.peak_mb, 1),
            **{k: counts.get(k, 0) for k in ("ok", "failed", "timed_out", "cancelled")},
            "cores_used": round(self.cores_used, 3), "busy_workers": round(self.busy_workers, 3),
            "gil": self.gil, "warnings": self.warnings(), "probe_s": _round(self.probe_s),
            "error": self.error,
        }


@dataclass(frozen=True)
class Diagnosis:
    kind: str  #: cpu-gil, cpu-parallel, waiting, overhead or mixed
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Recommendation:
    config: Config
    speedup: float
    why: str
    #: The numbers ``why`` was built from (the window builds its own words from them).
    reasons: dict[str, Any] = field(default_factory=dict)


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

    @property
    def significant(self) -> bool:
        return bool(self.lead and self.lead.significant)

    def ranked(self) -> list[ConfigResult]:
        """Configurations that ran, fastest median first; those with an error last."""
        ran = sorted((c for c in self.configs if c.runs), key=lambda c: c.median_s)
        return ran + [c for c in self.configs if not c.runs]

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommendation
        out: dict[str, Any] = {
            "plugin": self.plugin, "params": self.params, "items": self.items, "poolside": self.poolside,
            "machine": self.machine,
            "configs": [c.to_dict() for c in self.ranked()],
            "diagnosis": None if self.diagnosis is None else
            {"kind": self.diagnosis.kind, "evidence": self.diagnosis.evidence},
            "recommendation": None if rec is None else
            {**rec.config.to_dict(), "speedup": round(rec.speedup, 4), "why": rec.why, "reasons": rec.reasons},
            "significant": self.significant,
            "lead": None if self.lead is None else {
                "ratio": round(self.lead.ratio, 4), "ci_low": round(self.lead.ci_low, 4),
                "ci_high": round(self.lead.ci_high, 4), "p_value": round(self.lead.p_value, 4),
                "repeats": self.lead.repeats},
            "scaling": self.scaling, "notes": self.notes, "total_items": self.total_items,
            "repeats": self.repeats, "mode": self.mode, "cancelled": self.cancelled,
            "elapsed_s": round(self.elapsed_s, 3), "budget_s": self.budget_s,
        }
        return out


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
