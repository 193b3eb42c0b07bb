"""Numbers from repeats: centre, spread, warnings, and whether a lead is real.

    wall times of one configuration ──► Spread(median, MAD, min, max) ──► warnings (noisy, slow first)
    winner's and runner-up's times ──► Lead(ratio of medians, bootstrap 95 % interval,
                                            one-sided exact Mann-Whitney p) ──► significant?

The median and the MAD, not the mean and the standard deviation: a shared
machine produces outliers (another process wakes up), and three repeats give
the mean no protection against one.

Significance, honestly: with 3 repeats each, the smallest one-sided exact
Mann-Whitney p is 1 / C(6, 3) = 0.05, reached only when every repeat of the
winner beat every repeat of the runner-up; "p < 0.05" is then impossible.
So a lead counts as significant when p <= 0.05 (complete separation at 3
repeats, a firmer test at 5+) *and* the bootstrap interval of the ratio of
medians lies above 1.  At 3 repeats that is the best evidence three numbers
can give, and the verdict says so; more repeats make it a real test.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# hyperfine warns about a noisy result from outliers; with few repeats we look at
# the spread itself: a MAD of 5 % of the median, or a range of 25 %, is more
# than scheduling jitter on a quiet machine (1-2 %) and worth a re-run.
NOISY_MAD = 0.05
NOISY_RANGE = 0.25
# The first repeat "was slow" (hyperfine's cold-cache warning) when it took 15 %
# longer than the slowest of the others.
SLOW_FIRST = 1.15
ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Spread:
    median: float
    mad: float  #: median absolute deviation from the median (not scaled)
    min: float
    max: float

    @property
    def relative_mad(self) -> float:
        return self.mad / self.median if self.median > 0 else 0.0


def spread(times: Sequence[float]) -> Spread:
    if not times:
        return Spread(0.0, 0.0, 0.0, 0.0)
    median = statistics.median(times)
    mad = statistics.median(abs(t - median) for t in times)
    return Spread(median, mad, min(times), max(times))


def warnings_for(times: Sequence[float]) -> list[str]:
    """Codes, not sentences (the front ends word them): ``noisy``, ``slow-first``."""
    out: list[str] = []
    s = spread(times)
    if len(times) >= 2 and s.median > 0 and (
            s.relative_mad > NOISY_MAD or (s.max - s.min) / s.median > NOISY_RANGE):
        out.append("noisy")
    if len(times) >= 3 and times[0] > SLOW_FIRST * max(times[1:]):
        out.append("slow-first")
    return out


@dataclass(frozen=True)
class Lead:
    """How far the winner is ahead of the runner-up, and whether the data can tell."""

    ratio: float  #: runner-up median / winner median (1.2: the winner is 20 % faster)
    ci_low: float  #: 95 % bootstrap interval of that ratio
    ci_high: float
    p_value: float  #: one-sided exact Mann-Whitney U: "the winner's times are smaller"
    repeats: int  #: the fewer of the two configurations' repeat counts
    significant: bool


def lead(winner: Sequence[float], runner_up: Sequence[float], *, seed: int = 0) -> Lead:
    """Compare two configurations' wall times (see the module docstring for the rule)."""
    from scipy.stats import mannwhitneyu  # the exact U distribution for small samples, done right

    a, b = np.asarray(winner, dtype=float), np.asarray(runner_up, dtype=float)
    ratio = float(np.median(b) / np.median(a)) if np.median(a) > 0 else float("inf")
    if len(a) < 2 or len(b) < 2:
        return Lead(ratio, ratio, ratio, 1.0, min(len(a), len(b)), False)
    p = float(mannwhitneyu(a, b, alternative="less", method="exact").pvalue)
    rng = np.random.default_rng(seed)
    ma = np.median(rng.choice(a, (BOOTSTRAP_RESAMPLES, len(a))), axis=1)
    mb = np.median(rng.choice(b, (BOOTSTRAP_RESAMPLES, len(b))), axis=1)
    ratios = mb / np.maximum(ma, 1e-12)
    low, high = (float(x) for x in np.percentile(ratios, [2.5, 97.5]))
    return Lead(ratio, low, high, p, min(len(a), len(b)), p <= ALPHA and low > 1.0)


def speedup(baseline_s: float, config_s: float) -> float:
    return baseline_s / config_s if config_s > 0 else 0.0


def karp_flatt(speed_up: float, workers: int) -> float | None:
    """The experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p); None for p = 1."""
    if workers <= 1 or speed_up <= 0:
        return None
    return (1 / speed_up - 1 / workers) / (1 - 1 / workers)
