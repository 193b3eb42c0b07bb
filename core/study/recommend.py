"""The winner, its expected speed-up, the lead's significance, and the scaling picture.

    ConfigResult[] ──fit_memory(): those predicted to need more than the cap / the memory available left out
                   ──speed-ups vs the baseline──► winner (fastest median, every item ok)
                   ──lead(winner, runner-up)────► significant?
                   ──scaling(): per backend, speed-up and efficiency against workers,
                                Karp-Flatt serial fraction, the physical core count
    diagnosis + numbers ──words.why()──► the sentence (the one place words are built)
    sample's item times + the winner's speed-up ──forecast()──► the whole job's wall time
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import memory
from .forecast import Forecast, forecast
from .plan import Config
from .record import ConfigResult, Diagnosis, Recommendation, StudyResult
from .stats import Lead, karp_flatt, lead, speedup


def fill_speedups(configs: Sequence[ConfigResult]) -> None:
    """Speed-up against the sequential baseline measured in the same study; efficiency per worker."""
    baseline = next((c for c in configs if c.config.sequential and c.runs), None)
    for c in configs:
        if baseline is None or not c.runs:
            c.speedup = c.efficiency = 0.0
            continue
        c.speedup = speedup(baseline.median_s, c.median_s)
        c.efficiency = c.speedup / c.config.workers


def winner_and_lead(configs: Sequence[ConfigResult]) -> tuple[ConfigResult | None, ConfigResult | None,
                                                              Lead | None]:
    """The fastest complete configuration, the next one, and how sure the lead is."""
    ranked = _eligible(configs)
    if not ranked:
        return None, None, None
    if len(ranked) == 1:
        return ranked[0], None, None
    first, second = ranked[0], ranked[1]
    return first, second, lead(first.wall_s, second.wall_s)


# Configurations this close to the fastest median, and not significantly slower,
# are a tie: the diagnosis then picks (noise on a busy machine easily moves 5 %).
TIE = 1.05


def tie_break(configs: Sequence[ConfigResult], diagnosis: Diagnosis) -> ConfigResult | None:
    """The fastest, unless another is as fast within noise and suits the diagnosis better.

    Pure-Python CPU work, and waiting plus CPU, prefer processes (threads cannot scale
    the CPU part, whatever one noisy run said); waiting and GIL-free work prefer threads
    (nothing copied, nothing to start); tiny items, large hand-offs and a task that is
    already parallel prefer this process; fewer workers first after that.
    """
    from .measure import in_process

    ranked = _eligible(configs)
    if not ranked:
        return None
    fastest = ranked[0]
    tied = [c for c in ranked if c is fastest or (
        c.median_s <= fastest.median_s * TIE and not lead(fastest.wall_s, c.wall_s).significant)]
    want_local = {"cpu-gil": False, "waiting": True, "cpu-parallel": True, "overhead": True, "transfer": True,
                  "already-parallel": True, "mixed": False}.get(diagnosis.kind)
    if want_local is None or len(tied) == 1:
        return fastest
    return min(tied, key=lambda c: (in_process(c.config.backend) != want_local, c.config.workers, c.median_s))


def recommend(configs: Sequence[ConfigResult], diagnosis: Diagnosis, cores: int,
              max_memory: int | None = None) -> Recommendation | None:
    """The pick among the configurations that fit the memory (``max_memory`` bytes, else what is available)."""
    from ..words.study import why

    configs, too_big = fit_memory(configs, max_memory)
    fastest, second, the_lead = winner_and_lead(configs)
    first = tie_break(configs, diagnosis)
    if first is None or fastest is None:
        return None
    reasons: dict[str, Any] = {"diagnosis": diagnosis.kind, **diagnosis.evidence,
                               "winner": first.config.to_dict(), "winner_speedup": round(first.speedup, 3),
                               "winner_cores": round(first.cores_used, 3)}
    lim, base = memory.limit(max_memory), memory.base_parent([*configs, *too_big])
    faster_too_big = [c for c in too_big if c.complete and c.median_s < first.median_s]
    if faster_too_big:
        reasons["memory"] = memory.reasons(faster_too_big, lim, base)
    fits = memory.fit(first, lim, base)
    if fits is not None:
        reasons["memory_fit"] = fits
    if first is not fastest:
        reasons.update(fastest=fastest.config.to_dict(), fastest_ratio=round(first.median_s / fastest.median_s, 4))
    elif second is not None and the_lead is not None:
        reasons.update(runner_up=second.config.to_dict(), lead_ratio=round(the_lead.ratio, 4),
                       significant=the_lead.significant, p_value=round(the_lead.p_value, 4),
                       repeats=the_lead.repeats)
    return Recommendation(first.config, first.speedup, why(reasons), reasons)


def fit_memory(configs: Sequence[ConfigResult], max_memory: int | None) -> tuple[list[ConfigResult],
                                                                                   list[ConfigResult]]:
    """(the configurations that may win, those left out as predicted to need more memory than there is).

    When no complete configuration fits, the one that needs least stays in: a
    recommendation over the limit, which its why says, beats none.
    """
    fits, over = memory.within(configs, memory.limit(max_memory))
    if over and not any(c.complete for c in fits):
        base = memory.base_parent(configs)
        least = min((c for c in over if c.complete), key=lambda c: memory.need_mb(c, base=base) or 0.0,
                    default=None)
        if least is not None:
            over.remove(least)
            fits.append(least)
    return fits, over


def series_groups(configs: Sequence[ConfigResult]) -> dict[str, list[ConfigResult]]:
    """Measured parallel configurations by series (backend, chunk size, method, library threads), named."""
    groups: dict[str, list[ConfigResult]] = {}
    for c in configs:
        if c.runs and not c.config.sequential:
            cfg = c.config
            name = (cfg.backend + ("" if cfg.chunk_size == "auto" else f" chunk {cfg.chunk_size}")
                    + (f" {cfg.method}" if cfg.method else "")
                    + ("" if cfg.library_threads is None else f" {cfg.library_threads} library thread"))
            groups.setdefault(name, []).append(c)
    return groups


def scaling(configs: Sequence[ConfigResult], physical_cores: int, *, backend: str | None = None,
            predict: Sequence[int] | None = None, seed: int = 0) -> dict[str, Any]:
    """Where the workers were varied (two counts or more of one backend): the curve, with e = serial fraction.

    Over three counts or more, the Universal Scalability Law too (``scaling.py``):
    ``model`` (the recommended ``backend``'s, else the best-measured), ``models``
    by series, and ``predictions`` at ``predict`` workers (default: 2× and 4× the
    most measured), each labelled a prediction by the front ends.
    """
    from .scaling import fits, pick, predictions

    series: dict[str, list[dict[str, Any]]] = {}
    for name, members in series_groups(configs).items():
        if len({c.config.workers for c in members}) < 2:
            continue
        series[name] = [
            {"workers": c.config.workers, "speedup": round(c.speedup, 4), "efficiency": round(c.efficiency, 4),
             "serial_fraction": _round(karp_flatt(c.speedup, c.config.workers))}
            for c in sorted(members, key=lambda c: c.config.workers)]
    if not series:
        return {}
    out: dict[str, Any] = {"physical_cores": physical_cores, "series": series}
    models = fits(configs, seed=seed)
    chosen = pick(models, backend)
    if chosen is not None:
        out.update(model=chosen.to_dict(), models={name: m.to_dict() for name, m in models.items()},
                   predictions=predictions(models, predict))
    return out


def job_forecast(study: StudyResult, items: int | None = None, config: Config | None = None) -> Forecast | None:
    """The whole job's wall time on the recommendation, from the sample's per-item times.

    The sampling pass's item times give the spread; they are scaled to the
    engine's sequential median so that the configuration's speed-up (measured
    against that median) applies to them as it was measured.  ``items``: a job
    of another size than the study's (the Run tab's files now); ``config``:
    another configuration the study measured (None when it did not).
    """
    rec = study.recommendation
    wanted = config if config is not None else rec.config if rec is not None else None
    chosen = next((c for c in study.configs if c.config == wanted and c.runs), None)
    base = next((c for c in study.configs if c.config.sequential and c.runs), None)
    if chosen is None or base is None or not study.item_s or sum(study.item_s) <= 0 or chosen.speedup <= 0:
        return None
    scale = base.median_s / sum(study.item_s)
    slow, fast = chosen.speedup_range()  # the median's own repeat may differ from it in the last digit
    return forecast(study.total_items if items is None else items, [t * scale for t in study.item_s],
                    config=chosen.config,
                    speedup=chosen.speedup, speedup_range=(min(slow, chosen.speedup), max(fast, chosen.speedup)),
                    startup_s=chosen.startup_s or 0.0, seed=study.seed or 0)


def _eligible(configs: Sequence[ConfigResult]) -> list[ConfigResult]:
    """Configurations that may win, fastest first: every item ok.

    One with its libraries' threads capped may win too: ``poolside run
    --library-threads``, the Run tab and the snippet run it as measured.
    """
    return sorted((c for c in configs if c.complete), key=lambda c: c.median_s)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
