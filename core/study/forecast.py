"""How long a whole job will take, from per-item times measured on a few of its items.

    per-item times (sequential, one item at a time: a study's sample, or a quick sample)
        ──bootstrap the mean──► the sequential time of all N items, with a 95 % range
    configuration's speed-up against sequential (a study's median, its slowest and fastest repeat)
        ──divide──► the job's wall time on that configuration, + the workers' start-up
    ──► Forecast(seconds, low, high, and what it was based on)

A pure function of numbers; nothing here runs anything.  The sentence for
people is ``poolside.words.study.forecast_sentence``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .plan import BASELINE, Config

# Resamples of the per-item times: the 2.5th and 97.5th percentiles of 2,000
# means move by under 1 % between seeds on 20 items (a few ms of numpy).
RESAMPLES = 2000


@dataclass(frozen=True)
class Forecast:
    """A predicted wall time for a whole job, with its range and the numbers it rests on."""

    items: int  #: the job's item count the forecast is for
    seconds: float  #: the expected wall time
    low: float  #: 95 % range, low end
    high: float  #: 95 % range, high end
    config: Config  #: the configuration the job would run on
    sampled: int  #: items whose times were measured
    item_s: float  #: their mean time per item, sequentially
    speedup: float  #: the configuration's speed-up against sequential used
    startup_s: float = 0.0  #: the workers' start-up, added once

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "seconds": self.seconds, "low": self.low, "high": self.high,
                "config": self.config.to_dict(), "sampled": self.sampled, "item_s": self.item_s,
                "speedup": self.speedup, "startup_s": self.startup_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Forecast:
        return cls(int(data["items"]), float(data["seconds"]), float(data["low"]), float(data["high"]),
                   Config.from_dict(dict(data["config"])), int(data["sampled"]), float(data["item_s"]),
                   float(data["speedup"]), float(data.get("startup_s") or 0.0))


def forecast(items: int, item_s: Sequence[float], *, config: Config = BASELINE, speedup: float = 1.0,
             speedup_range: tuple[float, float] | None = None, startup_s: float = 0.0,
             seed: int = 0) -> Forecast:
    """The wall time of ``items`` items on ``config``.

    ``item_s``: sequential per-item times of items of this job, measured one at
    a time; they are taken to be among the ``items`` (a sample of the job), so
    their own time is known and only the rest is predicted.  ``speedup``: the
    configuration's measured speed-up against sequential (1 for sequential);
    ``speedup_range``: its slowest and fastest repeat, which widen the range.
    """
    if items < 0:
        raise ValueError(f"items must be 0 or more, got {items}")
    times = np.asarray(item_s, dtype=float)
    if times.size == 0:
        raise ValueError("no per-item times to forecast from")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError("per-item times must be finite and not negative")
    if not speedup > 0:
        raise ValueError(f"the speed-up must be above 0, got {speedup}")
    slow, fast = speedup_range if speedup_range is not None else (speedup, speedup)
    if not 0 < slow <= speedup <= fast:
        raise ValueError(f"the speed-up range ({slow}, {fast}) must be above 0 and hold {speedup}")
    if startup_s < 0:
        raise ValueError(f"the start-up must not be negative, got {startup_s}")
    known = min(times.size, items)
    rest = items - known
    # Item times are skewed (a few big files take most of the time), where a
    # normal-theory interval of the mean is too narrow on the slow side; the
    # bootstrap's percentiles take the sample's own shape.  Only the items not
    # measured are uncertain: a sample of the whole job forecasts it exactly.
    means = np.random.default_rng(seed).choice(times, (RESAMPLES, times.size)).mean(axis=1)
    mean_low, mean_high = (float(x) for x in np.percentile(means, [2.5, 97.5]))
    mean = float(times.mean())
    done = known * mean  # the measured items' own time (all of it when every one is among the job's)

    def wall(per_item: float, gain: float) -> float:
        return startup_s + (done + rest * per_item) / gain if items else 0.0

    # The range pairs the slow end of one with the slow end of the other: it errs wide, never narrow.
    return Forecast(items, wall(mean, speedup), wall(mean_low, fast), wall(mean_high, slow), config,
                    int(times.size), mean, speedup, startup_s)
