"""A study as JSON, CSV and Markdown, for a bug report or a pull request (no Qt).

JSON is the record itself; CSV one row per configuration; Markdown a table
and the verdict, ready to paste.  The numbers are formatted here, in the
window's one place for it (``gui/format.py``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from poolside.words import units as fmt
from poolside.words.study import DIAGNOSES

from ...study.record import config_label, cpu_cores_used, ranked

CSV_FIELDS = ("backend", "workers", "chunk_size", "method", "median_s", "mad_s", "min_s", "max_s", "speedup",
              "efficiency", "cpu_s", "peak_mb", "startup_s", "ok", "failed", "timed_out", "cancelled")


def to_json(study: Mapping[str, Any]) -> str:
    return json.dumps(study, indent=2, ensure_ascii=False, default=str) + "\n"


def to_csv(study: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for c in ranked(list(study.get("configs", ()))):
        writer.writerow({k: ("" if c.get(k) is None else c.get(k)) for k in CSV_FIELDS})
    return out.getvalue()


def to_markdown(study: Mapping[str, Any]) -> str:
    machine = study.get("machine") or {}
    lines = [
        f"## Poolside comparison: {study.get('plugin', '?')} over {fmt.count(int(study.get('items') or 0))} items",
        "",
        f"{machine.get('cpu', '?')}, {machine.get('physical', '?')} physical / {machine.get('logical', '?')} logical "
        f"cores, Python {machine.get('python', '?')}, {machine.get('os', '?')}; Poolside {study.get('poolside', '?')}",
        "",
        "| Configuration | Median ± MAD | Speed-up | Efficiency | CPU used (cores) | Peak memory | Start-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in ranked(list(study.get("configs", ()))):
        lines.append(
            f"| {config_label(c)} | {fmt.human_duration(c.get('median_s'))} ± {fmt.human_duration(c.get('mad_s'))} "
            f"| {float(c.get('speedup') or 0):.2f}× | {100 * float(c.get('efficiency') or 0):.0f} % "
            f"| {cpu_cores_used(c):.1f} | {fmt.human_bytes(float(c.get('peak_mb') or 0) * 1024 * 1024)} "
            f"| {fmt.human_duration(c.get('startup_s'))} |"
        )
    lines += ["", *_verdict_lines(study)]
    return "\n".join(lines) + "\n"


def _verdict_lines(study: Mapping[str, Any]) -> list[str]:
    rec = study.get("recommendation") or {}
    kind = (study.get("diagnosis") or {}).get("kind", "")
    lines = []
    if rec:
        lines.append(f"**Verdict:** use {config_label(rec)} ({float(rec.get('speedup') or 0):.2f}× sequential).")
        if rec.get("why"):
            lines.append(f"Why: {rec['why']}.")
    if kind:
        lines.append(f"Diagnosis: `{kind}`. {DIAGNOSES.get(kind, '')}".rstrip())
    if not study.get("significant", True):
        lines.append("Not significant: the lead over the runner-up is within noise.")
    return lines


WRITERS = {"json": to_json, "csv": to_csv, "md": to_markdown}


def write_study(path: str, study: Mapping[str, Any]) -> None:
    """By extension: ``.json``, ``.csv`` or ``.md``; ``ValueError`` for another."""
    kind = path.rsplit(".", 1)[-1].lower()
    if kind not in WRITERS:
        raise ValueError(f"cannot export a study as .{kind}: use .json, .csv or .md")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(WRITERS[kind](study))
