"""Reading a study record (the JSON ``poolside compare --json`` writes) for the window; no Qt.

A study record is a plain dict (issue 10)::

    {"plugin", "params", "items", "machine": {"logical", "physical", ...},
     "configs": [{"backend", "workers", "chunk_size", "method", "wall_s": [...], "median_s",
                  "mad_s", "min_s", "max_s", "speedup", "efficiency", "startup_s", "cpu_s",
                  "peak_mb", "ok", "failed", "timed_out", "cancelled"}, ...],
     "diagnosis": {"kind", "evidence"}, "recommendation": {..., "why"}, "significant"}

The views work from these dicts alone, so a study streamed live, one reopened
from the history and one read from a file look the same.  Everything a view
derives from a record (labels, families, whiskers) is worked out here, once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from poolside.words.configs import config_label

Config = Mapping[str, Any]

def config_key(c: Config) -> tuple[str, int, str, str]:
    """What identifies a configuration (a live update of one replaces it)."""
    return (str(c.get("backend")), int(c.get("workers") or 1), str(c.get("chunk_size", "auto")), str(c.get("method")))


def baseline_s(c: Config) -> float:
    """The sequential median this configuration's speed-up is against."""
    median, speedup = float(c.get("median_s") or 0), float(c.get("speedup") or 0)
    return median * speedup


def speedup_range(c: Config) -> tuple[float, float]:
    """The slowest and fastest repeat's speed-up (the whisker)."""
    base = baseline_s(c)
    lo_s, hi_s = float(c.get("max_s") or 0), float(c.get("min_s") or 0)
    lo = base / lo_s if lo_s > 0 else 0.0
    hi = base / hi_s if hi_s > 0 else 0.0
    return lo, hi


def ranked(configs: Sequence[Config]) -> list[Config]:
    """Fastest first (by median speed-up)."""
    return sorted(configs, key=lambda c: -float(c.get("speedup") or 0))


def cpu_cores_used(c: Config) -> float:
    """How many cores' worth of CPU the run used: CPU time over wall time."""
    median = float(c.get("median_s") or 0)
    return float(c.get("cpu_s") or 0) / median if median > 0 else math.nan


def scaling_series(configs: Sequence[Config]) -> dict[str, list[tuple[int, float]]]:
    """Backend -> [(workers, speed-up)] for the backends measured at two or more worker counts."""
    series: dict[str, dict[int, float]] = {}
    for c in configs:
        if c.get("backend") == "sequential":
            continue
        series.setdefault(str(c["backend"]), {})
        w = int(c.get("workers") or 1)
        series[str(c["backend"])][w] = max(series[str(c["backend"])].get(w, 0.0), float(c.get("speedup") or 0))
    return {b: sorted(points.items()) for b, points in series.items() if len(points) >= 2}


def is_cancelled(study: Mapping[str, Any] | None) -> bool:
    """No study, or one that was stopped before its verdict (what it measured is kept)."""
    return study is None or bool(study.get("cancelled"))


def recommended_label(study: Mapping[str, Any]) -> str:
    rec = study.get("recommendation") or {}
    return config_label(rec) if rec else ""
