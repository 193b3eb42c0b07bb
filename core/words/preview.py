"""A run's preview in words: ``poolside run --dry-run`` prints these lines, the Run tab's Preview shows them.

    poolside.preview.Preview (counts, names, actions, a forecast) ──preview_lines──► lines for people
                                                                 ──forecast_line──► "≈ 3 min 10 s on processes ×2"
"""

from __future__ import annotations

from typing import Any

from .configs import config_label
from .study import forecast_basis
from .units import approx_duration, count

#: How each planned output reads ("a.png → /out/a-1.png (renamed: a.png exists)").
OUTPUT_ACTIONS = {"write": "new", "rename": "renamed", "skip": "skipped",
                  "overwrite": "overwritten", "refuse": "refused: it is the input itself",
                  "unknown": "fails"}
#: The policy's own words, said once beside the folder.
#: The tally of outputs by action ("200 new, 3 renamed").
ACTION_TALLY = {"write": "new", "rename": "renamed", "skip": "skipped", "overwrite": "overwritten",
                "refuse": "refused", "unknown": "failing"}
POLICY_WORDS = {"rename": "a name that is taken gets -1, -2, …", "skip": "an existing output is kept, its item skipped",
                "overwrite": "an existing output is replaced"}
#: Where a forecast's numbers come from, when not the history's "study 12" or "run 7".
FORECAST_SOURCES = {"sample": "a sample of this job run just now, outputs discarded"}
NO_FORECAST = {"no-history": "no study or run of this job in the history yet",
               "history-off": "the history is off",
               "not-measured": "the history has no study of this job that measured this configuration, "
                               "and no run of it on this configuration with every item ok"}


def _get(p: Any, key: str) -> Any:
    return p[key] if isinstance(p, dict) else getattr(p, key)


def forecast_line(p: Any) -> str:
    """``"≈ 3 min 10 s on processes ×2 (2 min 50 s – 3 min 40 s), from study 12"`` or why there is none."""
    f = _get(p, "forecast")
    if not f:
        missing = str(_get(p, "forecast_missing") or "no-history")
        code, _, reason = missing.partition(": ")
        why = NO_FORECAST.get(code) or f"the history cannot be read ({reason})"
        return f"No predicted duration: {why}."
    low, high = approx_duration(f["low"]), approx_duration(f["high"])
    span = f" ({low} – {high})" if low != high else ""
    source = _get(p, "forecast_source")
    source = FORECAST_SOURCES.get(source, f"the history's {source}")
    return f"≈ {approx_duration(f['seconds'])} on {config_label(f['config'])}{span}, {forecast_basis(f)} ({source})"


def output_line(o: Any) -> str:
    """One planned output: ``"photos/a.png → thumbs/a-1.png (renamed: a.png exists)"``."""
    action, item = _get(o, "action"), _get(o, "item")
    if action == "unknown":
        return f"{item} → no output ({OUTPUT_ACTIONS[action]}: {_get(o, 'error')})"
    line = f"{item} → {_get(o, 'path')}"
    if action == "write":
        return line
    clash = _get(o, "clash")
    held = f"{_get(o, 'wanted')} is also {clash}'s output" if clash else f"{_get(o, 'wanted')} exists"
    return f"{line} ({OUTPUT_ACTIONS[action]}: {held})"


def preview_lines(p: Any, *, shown: int | None = None) -> list[str]:
    """The whole preview: the count and configuration, the forecast, the outputs, what the filter skips.

    ``shown``: list at most this many items, outputs and skipped entries each (None: every one kept).
    """
    n = int(_get(p, "items"))
    lines = [f"{_get(p, 'plugin')}: {count(n)} item{'s' if n != 1 else ''} on {config_label(_get(p, 'config'))}",
             forecast_line(p)]
    folders = _get(p, "output_folders")
    outputs = list(_get(p, "outputs"))
    if folders:
        policy = _get(p, "policy")
        rule = f"; on a name that is taken: {policy} ({POLICY_WORDS.get(policy, policy)})" if policy else ""
        lines.append(f"Outputs go to {', '.join(folders)}{rule}.")
        if _get(p, "names_known"):
            actions = _get(p, "actions")
            tally = ", ".join(f"{count(actions[a])} {word}" for a, word in ACTION_TALLY.items() if actions.get(a))
            lines.append(f"Outputs: {tally or 'none'}.")
            lines += ["  " + output_line(o) for o in _cut(outputs, shown)]
            lines += _more(len(outputs), n, shown, "outputs")
        else:
            lines.append("The plugin does not say its output names before it runs.")
    elif n:
        items = list(_get(p, "first_items"))
        lines.append("Items:")
        lines += ["  " + i for i in _cut(items, shown)]
        lines += _more(len(items), n, shown, "items")
    skipped = _get(p, "skipped")
    total_skipped = sum(skipped.values())
    if total_skipped:
        patterns = _get(p, "patterns")
        rule = f" ({', '.join(patterns)})" if patterns else ""
        lines.append(f"Skipped by the filter{rule}: {count(total_skipped)} entr{'y' if total_skipped == 1 else 'ies'}.")
        kept = list(_get(p, "skipped_items"))
        lines += [f"  {path} ({reason})" for path, reason in _cut(kept, shown)]
        lines += _more(len(kept), total_skipped, shown, "entries")
    return lines


def _cut(entries: list, shown: int | None) -> list:
    return entries if shown is None else entries[:shown]


def _more(listed: int, total: int, shown: int | None, noun: str) -> list[str]:
    on_screen = listed if shown is None else min(listed, shown)
    return [f"  … and {count(total - on_screen)} more {noun}"] if total > on_screen else []
