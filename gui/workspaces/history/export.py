"""A study as JSON, CSV and Markdown, for a bug report or a pull request (no Qt).

JSON is the record itself (``StudyResult.to_dict``); CSV one row per
configuration; Markdown a table and the verdict, ready to paste.  Numbers and
labels are worded by ``poolside.words``, as everywhere.
"""

from __future__ import annotations

import csv
import io
import json

from poolside.serialize import jsonable
from poolside.study import ConfigResult, StudyResult
from poolside.study.record import fastest_first
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.study import (
    diagnosis_sentence,
    forecast_basis,
    forecast_sentence,
    prediction_sentence,
    scaling_sentence,
    sentence,
)

CSV_FIELDS = ("backend", "workers", "chunk_size", "method", "median_s", "mad_s", "min_s", "max_s", "speedup",
              "efficiency", "cpu_s", "peak_mb", "startup_s", "ok", "failed", "timed_out", "cancelled")


def to_json(study: StudyResult) -> str:
    return json.dumps(study.to_dict(), indent=2, ensure_ascii=False, default=jsonable) + "\n"


def to_csv(study: StudyResult) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for c in fastest_first(study.configs):
        row = c.to_dict()
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_FIELDS})
    return out.getvalue()


def _row(c: ConfigResult) -> str:
    s = c.spread
    return (f"| {config_label(c.config)} | {fmt.human_duration(s.median)} ± {fmt.human_duration(s.mad)} "
            f"| {c.speedup:.2f}× | {100 * c.efficiency:.0f} % | {c.cores_used:.1f} "
            f"| {fmt.human_bytes(c.peak_bytes)} | {fmt.human_duration(c.startup_s)} |")


def to_markdown(study: StudyResult) -> str:
    machine = study.machine
    lines = [
        f"## Poolside comparison: {study.plugin or '?'} over {fmt.count(study.items)} items",
        "",
        f"{machine.get('cpu', '?')}, {machine.get('physical', '?')} physical / {machine.get('logical', '?')} logical "
        f"cores, Python {machine.get('python', '?')}, {machine.get('os', '?')}; Poolside {study.poolside or '?'}",
        "",
        "| Configuration | Median ± MAD | Speed-up | Efficiency | CPU used (cores) | Peak memory | Start-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(_row(c) for c in fastest_first(study.configs)),
        "", *_verdict_lines(study),
    ]
    return "\n".join(lines) + "\n"


def _verdict_lines(study: StudyResult) -> list[str]:
    rec, diagnosis = study.recommendation, study.diagnosis
    lines = []
    if rec is not None:
        lines.append(f"**Verdict:** use {config_label(rec.config)} ({rec.speedup:.2f}× sequential).")
        if rec.why:
            lines.append(f"Why: {rec.why.rstrip('.')}.")
    if diagnosis is not None:
        lines.append(f"Diagnosis: `{diagnosis.kind}`. {diagnosis_sentence(diagnosis.kind)}".rstrip())
    if rec is not None and not study.significant:
        lines.append("Not significant: the lead over the runner-up is within noise.")
    if study.forecast is not None:
        lines.append(f"Forecast: {forecast_sentence(study.forecast)}, {forecast_basis(study.forecast)}.")
    model = study.scaling.get("model")
    if model:
        lines.append(f"Scaling: {sentence(scaling_sentence(model))}")
        lines += [f"- {sentence(prediction_sentence(p))}" for p in study.scaling.get("predictions", ())]
    return lines


WRITERS = {"json": to_json, "csv": to_csv, "md": to_markdown}


def write_study(path: str, study: StudyResult) -> None:
    """By extension: ``.json``, ``.csv`` or ``.md``; ``ValueError`` for another."""
    kind = path.rsplit(".", 1)[-1].lower()
    if kind not in WRITERS:
        raise ValueError(f"cannot export a study as .{kind}: use .json, .csv or .md")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(WRITERS[kind](study))
