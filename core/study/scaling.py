"""Gunther's Universal Scalability Law, fitted where a study varied the workers: predictions past what it measured.

    a backend's configurations at >= 3 worker counts (their repeats) + the sequential baseline's repeats
        ──least squares──► S(N) = g·N / (1 + σ(N−1) + κN(N−1))     σ contention, κ coherency, g scale
        ──bootstrap the repeats, refit──► a range for each prediction
    ──► UslFit: peak workers N* = √((1−σ)/κ), retrograde (past N* more workers run slower),
                predict(N) = (speed-up, low, high)

Amdahl's law has no κ: it can only level off, never turn down, so it cannot
say "past 12 workers you lose".  The USL's two parameters can, from three
points.  ``g`` is the speed-up one worker of this backend would reach (a
worker process pays hand-offs sequential does not); σ and κ keep their
textbook meaning relative to it.  Numbers only: ``poolside.words.study``
words them, as predictions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .record import ConfigResult

# At least this many worker counts of one backend before a model is fitted
# (three parameters: fewer points fit anything exactly and predict nothing).
MIN_POINTS = 3
# Bootstrap refits for the ranges: each is a least-squares fit on 3-8 points
# (1.3 ms here, 4 ms at load 7), so 100 keep a series' fit under half a second;
# the 2.5 and 97.5 percentiles of 100 move by several per cent between seeds,
# well inside the ranges themselves.
RESAMPLES = 100
# κ below this is no coherency cost at all: the peak would lie past any
# machine's worker count, and "retrograde" would be noise.
KAPPA_ZERO = 1e-6
# Predictions are made at most this far past the largest measured count: the
# model is two numbers fitted on a handful of points.
FURTHEST = 64


@dataclass(frozen=True)
class UslFit:
    """One backend's fitted curve, and the refits that give its ranges."""

    series: str  #: the scaling series' name ("processes", "threads chunk 16"...)
    backend: str
    sigma: float
    kappa: float
    scale: float  #: g: the speed-up of one worker of this backend
    workers: tuple[int, ...]  #: the measured worker counts
    samples: tuple[tuple[float, float, float], ...]  #: bootstrap refits: (scale, sigma, kappa)

    @property
    def peak_workers(self) -> float | None:
        """N* = √((1−σ)/κ); None when κ is about 0 (no peak: the curve levels off)."""
        return _peak(self.sigma, self.kappa)

    @property
    def retrograde(self) -> bool:
        """Past the peak, more workers make the job slower (κ > 0)."""
        return self.peak_workers is not None

    def speedup(self, workers: float) -> float:
        return usl(workers, self.scale, self.sigma, self.kappa)

    def predict(self, workers: int) -> dict[str, Any]:
        """``{"backend", "workers", "speedup", "low", "high"}``: the 95 % range of the refits."""
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, got {workers}")
        spread = [usl(workers, *s) for s in self.samples] or [self.speedup(workers)]
        low, high = (float(x) for x in np.percentile(spread, [2.5, 97.5]))
        point = self.speedup(workers)
        return {"backend": self.backend, "series": self.series, "workers": workers, "speedup": round(point, 4),
                "low": round(min(low, point), 4), "high": round(max(high, point), 4),
                "measured": workers in self.workers}

    def to_dict(self) -> dict[str, Any]:
        peak = self.peak_workers
        return {"kind": "usl", "series": self.series, "backend": self.backend, "sigma": round(self.sigma, 6),
                "kappa": round(self.kappa, 8), "scale": round(self.scale, 4),
                "peak_workers": None if peak is None else round(peak, 1), "retrograde": self.retrograde,
                "workers": list(self.workers),
                # The refits travel with the model (~3 KB), so any reader, the window's "what if"
                # among them, predicts other worker counts with their range without refitting.
                "samples": [[round(x, 6) for x in sample] for sample in self.samples]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UslFit:
        return cls(str(data["series"]), str(data["backend"]), float(data["sigma"]), float(data["kappa"]),
                   float(data["scale"]), tuple(int(w) for w in data["workers"]),
                   tuple((float(a), float(b), float(c)) for a, b, c in data.get("samples") or ()))


def usl(n: float, scale: float, sigma: float, kappa: float) -> float:
    return scale * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def _peak(sigma: float, kappa: float) -> float | None:
    if kappa < KAPPA_ZERO or sigma >= 1:
        return None
    return math.sqrt((1 - sigma) / kappa)


def fit(name: str, members: Sequence[ConfigResult], baseline: ConfigResult, *, seed: int = 0) -> UslFit | None:
    """The USL through one series' median speed-ups; None with fewer than 3 worker counts or no baseline."""
    by_workers = {c.config.workers: c for c in members if c.runs}
    if len(by_workers) < MIN_POINTS or not baseline.runs:
        return None
    workers = sorted(by_workers)
    n = np.array(workers, dtype=float)
    runs = [np.array(by_workers[w].wall_s) for w in workers]
    base = np.array(baseline.wall_s)
    params = _least_squares(n, np.median(base) / np.array([np.median(r) for r in runs]))
    if params is None:
        return None
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(RESAMPLES):
        # Resample each configuration's repeats (and the baseline's): the speed-ups move as the repeats did.
        b = np.median(rng.choice(base, base.size))
        s = b / np.array([np.median(rng.choice(r, r.size)) for r in runs])
        refit = _least_squares(n, s, params)
        if refit is not None:
            samples.append(refit)
    return UslFit(name, members[0].config.backend, params[1], params[2], params[0], tuple(workers), tuple(samples))


def _least_squares(n: np.ndarray, speedups: np.ndarray,
                   start: tuple[float, float, float] | None = None) -> tuple[float, float, float] | None:
    """(scale, σ, κ) minimising the relative error (a 10 % miss at 16 workers weighs as one at 2)."""
    from scipy.optimize import least_squares  # bounded trust-region fit: σ and κ stay in [0, 1]

    if not np.all(np.isfinite(speedups)) or np.any(speedups <= 0):
        return None

    def residuals(p: np.ndarray) -> np.ndarray:
        return p[0] * n / (1 + p[1] * (n - 1) + p[2] * n * (n - 1)) / speedups - 1

    x0 = start or (max(float(speedups[0] / n[0]), 1e-3), 0.05, 0.001)
    try:
        result = least_squares(residuals, x0, bounds=([1e-6, 0.0, 0.0], [np.inf, 1.0, 1.0]))
    except ValueError as e:  # a start outside the bounds, non-finite residuals: no model rather than a wrong one
        from ..log import get_logger

        get_logger(__name__).info("no scaling model: %s", e)
        return None
    if not result.success:
        return None
    scale, sigma, kappa = (float(x) for x in result.x)
    return scale, sigma, kappa


def fits(configs: Sequence[ConfigResult], *, seed: int = 0) -> dict[str, UslFit]:
    """A model for every series (backend, chunk size, method) whose workers varied over 3 counts or more."""
    from .recommend import series_groups

    baseline = next((c for c in configs if c.config.sequential and c.runs), None)
    if baseline is None:
        return {}
    found = {}
    for name, members in series_groups(configs).items():
        model = fit(name, members, baseline, seed=seed)
        if model is not None:
            found[name] = model
    return found


def default_predictions(model: UslFit) -> list[int]:
    """Worker counts worth predicting when none are asked for: 2× and 4× the most measured."""
    return [model.workers[-1] * 2, model.workers[-1] * 4]


def predictions(models: dict[str, UslFit], workers: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Each model's prediction at ``workers`` (not measured ones only), never past ``FURTHEST``× its data."""
    out = []
    for model in models.values():
        wanted = default_predictions(model) if workers is None else list(workers)
        for w in wanted:
            if w <= model.workers[-1] * FURTHEST:
                out.append(model.predict(w))
    return out


def pick(models: dict[str, UslFit], backend: str | None) -> UslFit | None:
    """The model the JSON's ``scaling.model`` shows: the recommended backend's, else the best-measured."""
    same = [m for m in models.values() if m.backend == backend]
    ranked = same or list(models.values())
    return max(ranked, key=lambda m: len(m.workers), default=None)
