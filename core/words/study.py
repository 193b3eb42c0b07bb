"""The one place a study's numbers become words: the *why*, the warnings, the notes.

The record carries numbers (``Diagnosis.evidence``, ``Recommendation.reasons``,
warning and note codes); the sentence in the JSON's ``why`` is built here, and
the CLI and the window use these same functions, so a study reads the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cluster import cluster_note
from .configs import config_label
from .units import approx_duration, count, human_duration, size_text

_KIND = {
    "cpu-gil": "CPU work that holds the GIL (pure Python, or C code that keeps it)",
    "cpu-parallel": "CPU work in code that releases the GIL",
    "waiting": "mostly waiting (I/O or sleeps)",
    "overhead": "items so small that handing them to workers costs more than the work",
    "mixed": "waiting plus CPU work",
    "transfer": "moving items and results to workers costs more than the work",
    "already-parallel": "work that already runs on several cores by itself",
    "imbalanced": "heavy-tailed item times: a few items take most of the time",
}


#: What each diagnosis means for the choice of backend, in a sentence (the window's verdict;
#: the study's evidence follows it).
DIAGNOSES: dict[str, str] = {
    "cpu-gil": "CPU work that holds the GIL (pure Python, or C code that keeps it): threads share one core; "
               "processes scale.",
    "cpu-parallel": "CPU work in code that releases the GIL: threads scale as well as processes.",
    "waiting": "The task mostly waits (I/O or sleeps): more workers than cores pay off.",
    "overhead": "Items so small that handing them out costs more than running them: chunking matters.",
    "mixed": "The task waits and computes: processes with more workers than cores keep the cores busy "
             "through the waits.",
    "transfer": "Moving items and results to worker processes costs more than the work: threads or sequential "
                "move nothing; or return less.",
    "already-parallel": "The task already runs on several cores (BLAS, numba, its own threads): more workers "
                        "only oversubscribe; use fewer, or cap the library's threads (--library-threads, "
                        "threadpoolctl).",
    "imbalanced": "A few items take most of the time: hand out one item at a time (chunk 1) so no worker "
                  "sits on a chunk of slow ones.",
}


def kind(diagnosis: str) -> str:
    """The diagnosis as a noun phrase ("pure-Python CPU work"), for the *why*."""
    return _KIND.get(diagnosis, diagnosis)


def diagnosis_sentence(diagnosis: str) -> str:
    """The diagnosis as the verdict's sentence."""
    return DIAGNOSES.get(diagnosis) or kind(diagnosis).capitalize() + "."


def why(r: dict[str, Any]) -> str:
    """The recommendation's reason, from :func:`recommend`'s numbers."""
    parts = [kind(r["diagnosis"])[0].upper() + kind(r["diagnosis"])[1:]]
    d = r["diagnosis"]
    if d == "cpu-gil" and "threads_oncpu" in r:
        parts.append(f"threads ran only {r['threads_oncpu']:.0%} of the time they could (the GIL lets one "
                     f"run at a time); on threads the process used {r['threads_cores']:.1f} core of {r['cores']}"
                     if "threads_cores" in r else
                     f"threads ran only {r['threads_oncpu']:.0%} of the time they could (the GIL)")
    elif d == "cpu-gil" and "threads_cores" in r:
        parts.append(f"on threads the process used {r['threads_cores']:.1f} core of {r['cores']} (the GIL)")
    elif d == "cpu-parallel" and "threads_cores" in r:
        parts.append(f"on {r['threads_workers']} threads the process used {r['threads_cores']:.1f} cores")
    elif d == "waiting":
        parts.append(f"sequentially the CPU was busy {r['baseline_cpu_ratio']:.0%} of the time, "
                     "so more workers than cores pay")
    elif d == "overhead":
        parts.append(f"an item takes {r['item_ms'] * 1000:.0f} µs sequentially")
    elif d in _SPECIFIC:
        parts.append(_SPECIFIC[d](r))
    winner = config_label(r["winner"])
    if r["winner"]["backend"] == "sequential":
        within = " that fits in memory" if "memory" in r else ""
        text = "; ".join(parts) + f": no parallel configuration{within} beat sequential"
    else:
        text = "; ".join(parts) + f": {winner} ran {r['winner_speedup']:.2f}× faster than sequential"
    if "fastest" in r:
        text += (f"; {config_label(r['fastest'])} was {(r['fastest_ratio'] - 1) * 100:.0f} % faster in this study, "
                 f"within noise, and suits {kind(d)} less")
    if "runner_up" in r:
        ahead = (r["lead_ratio"] - 1) * 100
        if r["significant"]:
            text += f", {ahead:.0f} % ahead of {config_label(r['runner_up'])}"
        else:
            text += (f"; its {ahead:.0f} % lead over {config_label(r['runner_up'])} is within noise "
                     f"(not significant after {r['repeats']} repeats)")
    if "memory" in r:
        text += ". " + memory_sentence(r["memory"])
    return text + "."


def _mb(mb: float, like: int) -> str:
    return size_text(mb * 1e6, like)


def memory_need(need_mb: float, parent_mb: float | None, worker_mb: float | None, workers: int,
                like: int = 2**20) -> str:
    """``"about 2.3 GB (1.1 GB in the parent + 8 × 150 MB per worker)"``, in the units of ``like`` (a cap)."""
    text = f"about {_mb(need_mb, like)}"
    if parent_mb is not None and worker_mb is not None and workers > 1:
        text += f" ({_mb(parent_mb, like)} in the parent + {workers} × {_mb(worker_mb, like)} per worker)"
    return text


def _limit(m: dict[str, Any]) -> tuple[str, int]:
    """("the 2 GB cap" or "the 5.1 GiB of memory available", the units to write sizes in)."""
    if m["cap"]:
        like = int(m.get("limit_bytes") or m["limit_mb"] * 1e6)
        return f"the {size_text(like, like)} cap", like
    return f"the {_mb(m['limit_mb'], 2**20)} of memory available", 2**20


def memory_sentence(m: dict[str, Any]) -> str:
    """Why faster configurations were left out: ``processes ×8 ran faster but needs about 2.3 GB (…), above …``."""
    where, like = _limit(m)
    parts = [f"{config_label(x['config'])} ran faster but needs "
             + memory_need(x["need_mb"], x.get("parent_mb"), x.get("worker_mb"), x["config"]["workers"], like)
             for x in m["left_out"]]
    return sentence("; ".join(parts) + f", above {where}").rstrip(".")


def fit_sentence(f: dict[str, Any]) -> str:
    """``"processes ×2 needs about 139 MB (…); up to 106 of its workers fit in the 5.1 GiB available"``."""
    where, like = _limit(f)
    text = (f"{config_label(f['config'])} needs "
            + memory_need(f["need_mb"], f.get("parent_mb"), f.get("worker_mb"), f["config"]["workers"], like))
    if f.get("max_workers") is not None:
        return text + f"; up to {f['max_workers']:,} of its workers fit in {where}"
    return text + f", within {where}" if f["need_mb"] * 1e6 <= f["limit_bytes"] else text + f", above {where}"


def memory_skip(config: Any, need_mb: float, parent_mb: float, worker_mb: float, m: dict[str, Any]) -> str:
    """A configuration not run: ``skipped: predicted to need about 2.3 GB (…), above the 2 GB cap``."""
    where, like = _limit(m)
    return (f"skipped: predicted to need "
            f"{memory_need(need_mb, parent_mb, worker_mb, config.workers, like)}, above {where}")


def over_limit_note(config: Any, need_mb: float, m: dict[str, Any]) -> str:
    """A configuration flagged in a table: ``processes ×8 needs about 2.3 GB, above the 2 GB cap``."""
    where, like = _limit(m)
    return f"{config_label(config)} needs about {_mb(need_mb, like)}, above {where}: not recommended"
def _transfer(r: dict[str, Any]) -> str:
    text = (f"each item moves {r['mb_per_item']:.1f} MB (item and result, pickled); pickling it and back took "
            f"{human_duration(r['pickle_ms'] / 1000)} against {human_duration(r['item_ms'] / 1000)} of work")
    if "pickle_mb_s" in r:
        text += f" ({r['pickle_mb_s']:,.0f} MB/s)"
    if "handoff_mb_s" in r:
        text += (f"; on processes ×{r['processes_workers']} the results came back at {r['handoff_mb_s']:,.0f} MB/s "
                 f"and ran {r['processes_speedup']:.2f}× sequential")
    return text


def _already_parallel(r: dict[str, Any]) -> str:
    text = (f"sequentially the process already used {r['sequential_cores']:.1f} of {r['cores']} cores (the task's "
            "own threads), so more workers oversubscribe")
    if "capped_speedup" in r:
        text += (f"; processes ×{r['capped_workers']} with {r['capped_threads']} library thread each "
                 f"(threadpoolctl) ran {r['capped_speedup']:.2f}× sequential")
    return text


def _imbalanced(r: dict[str, Any]) -> str:
    text = f"the slowest tenth of the items took {r['top_share']:.0%} of the time"
    if "slowest_ms" in r:
        text += (f" (the slowest {human_duration(r['slowest_ms'] / 1000)}, the median "
                 f"{human_duration(r['median_ms'] / 1000)})")
    if "chunk1_speedup" in r:
        text += f"; {r['chunk1_backend']} handing out one item at a time ran {r['chunk1_speedup']:.2f}× sequential"
    return text


def _mixed(r: dict[str, Any]) -> str:
    text = f"sequentially the CPU was busy {r['baseline_cpu_ratio']:.0%} of the time"
    if "processes_workers" in r:
        more = "more workers than" if r["processes_workers"] > r["cores"] else "as many workers as"
        text += (f"; processes ×{r['processes_workers']} ({more} the {r['cores']} cores) ran "
                 f"{r['processes_speedup']:.2f}× sequential")
    return text


_SPECIFIC = {"transfer": _transfer, "already-parallel": _already_parallel, "imbalanced": _imbalanced,
             "mixed": _mixed}


#: The study steps that measure no configuration, as a progress line names them.
PHASES = {"sample": "choosing the sample", "gil-probe": "checking the GIL"}


def warning(code: str) -> str:
    return {
        "noisy": "noisy: the repeats differ by more than a quiet machine would; other programs may be running",
        "slow-first": "the first repeat was much slower than the rest (cold workers or caches)",
    }.get(code, code)


def notes(study: Any) -> list[str]:
    """Every note of a study record (``to_dict()`` form) as a sentence, for the window."""
    return [sentence(note(n)) for n in (study.get("notes") or ())]


def sentence(text: str) -> str:
    """``"the study took…"`` -> ``"The study took…."``: a clause as a sentence of its own."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def note(n: dict[str, Any]) -> str:
    code = n.get("code")
    if code == "sample-shrunk":
        return (f"the {human_duration(n['budget_s'])} budget allows about {human_duration(n['target_s'])} "
                "of sequential work per run: "
                f"the sample is {n['items']} items instead of the usual ~2 s")
    if code == "sample":
        return (f"sample: {n['items']} of {n['total']} items, about {human_duration(n['sequential_s'])} "
                "of sequential work")
    if code == "dropped":
        return (f"to stay within the budget, {len(n['configs'])} slower configurations were measured only "
                f"once and left out of the repeats: {', '.join(config_label(c) for c in n['configs'])}")
    if code == "busy-machine":
        return (f"the machine was busy with other programs: sequentially the task waited for a core "
                f"{n['runqueue_share']:.0%} of the time; more workers than cores can look faster here only by "
                "taking CPU from those programs")
    if code == "over-budget":
        return f"the study took {human_duration(n['elapsed_s'])}, more than the {human_duration(n['budget_s'])} budget"
    if code == "cluster":
        return cluster_note(n)
    if code == "significance":
        return (f"with {n['repeats']} repeats the strongest possible evidence is p = {n['p_min']:.2f} "
                "(every repeat of the winner faster than every repeat of the runner-up); "
                "use more repeats for a firmer answer")
    numbers = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in n.items() if k != "code")
    return str(code).replace("-", " ") + (f": {numbers}" if numbers else "")


def forecast_sentence(f: Any, noun: str = "items") -> str:
    """``"12,000 files ≈ 3 min 10 s on processes ×2 (2 min 50 s – 3 min 40 s)"``.

    ``f`` is a :class:`~poolside.study.forecast.Forecast` or its ``to_dict()``.
    """
    get = _getter(f)
    low, high = approx_duration(get("low")), approx_duration(get("high"))
    span = f" ({low} – {high})" if low != high else ""
    return (f"{count(int(get('items')))} {noun} ≈ {approx_duration(get('seconds'))} "
            f"on {config_label(get('config'))}{span}")


def forecast_basis(f: Any) -> str:
    """What a forecast rests on: ``"from 24 items measured at 12.3 ms each, and a 1.85× speed-up"``."""
    get = _getter(f)
    text = f"from {count(int(get('sampled')))} items measured at {human_duration(get('item_s'))} each"
    if get("speedup") != 1.0:
        text += f", and a {get('speedup'):.2f}× speed-up"
    if get("startup_s"):
        text += f", plus {human_duration(get('startup_s'))} to start the workers"
    return text


def _getter(record: Any) -> Callable[[str], Any]:
    """Fields of a record or of its ``to_dict()``, read alike."""
    if isinstance(record, dict):
        return lambda key: record[key]
    return lambda key: getattr(record, key)


def scaling_sentence(model: dict[str, Any]) -> str:
    """A fitted scaling model (``scaling.model``): contention, coherency, and where it peaks."""
    text = (f"{model['series']}: contention σ = {model['sigma']:.3f}, coherency κ = {model['kappa']:.4f} "
            f"(Universal Scalability Law, fitted on {', '.join(str(w) for w in model['workers'])} workers)")
    if model.get("retrograde") and model.get("peak_workers") is not None:
        return text + (f"; it peaks at about {model['peak_workers']:.0f} workers, and past that more workers "
                       "make the job slower")
    if model["sigma"] > 0:
        return text + f"; no peak: the speed-up levels off towards {model['scale'] / model['sigma']:.1f}×"
    return text + "; no peak and no contention measured: it scales with the workers"


def scaling_brief(model: dict[str, Any]) -> str:
    """The model's shape in a clause: ``"the model peaks at about 12 workers, and slows past that"``."""
    if model.get("retrograde") and model.get("peak_workers") is not None:
        return f"the model peaks at about {model['peak_workers']:.0f} workers, and slows past that"
    if model["sigma"] > 0:
        return f"the model levels off towards {model['scale'] / model['sigma']:.1f}×"
    return "the model scales with the workers"


def prediction_sentence(p: dict[str, Any]) -> str:
    """``"predicted: processes ×32 ≈ 2.53× sequential (0.72–9.96×)"``: a model's guess, labelled as one."""
    label = config_label({"backend": p["backend"], "workers": p["workers"]})
    if p.get("series", p["backend"]) != p["backend"]:
        label += f" ({p['series']})"
    head = "measured and fitted" if p.get("measured") else "predicted"
    return f"{head}: {label} ≈ {p['speedup']:.2f}× sequential ({p['low']:.2f}–{p['high']:.2f}×)"
