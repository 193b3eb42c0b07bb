"""Formatting: sections of the printed report, tables, verdicts, rates.

Durations and sizes read as everywhere else in Poolside: ``poolside.words.units``
(``human_duration``, ``human_bytes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def fmt_rate(per_s: float | None) -> str:
    """Items per second, short: 3.70 M, 290 k, 950."""
    if per_s is None:
        return "-"
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.0f} k"
    return f"{per_s:.0f}"


def fmt_ms(seconds: float | None) -> str:
    """A fixed unit, so that a column of times compares at a glance (durations for
    people elsewhere: ``poolside.words.units.human_duration``)."""
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def render_table(headers: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    """A plain-text table; ``align`` has an ``l`` or ``r`` per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [headers, *rows]
    widths = [max(len(str(row[i])) if i < len(row) else 0 for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = []
        for i, width in enumerate(widths):
            text = str(row[i]) if i < len(row) else ""
            parts.append(text.ljust(width) if align[i] == "l" else text.rjust(width))
        return "  ".join(parts).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


@dataclass
class Verdict:
    name: str
    target: str
    value: float | None
    bar: float | None
    detail: str
    passed: bool | None

    @property
    def word(self) -> str:
        if self.passed is None:
            return "N/A"
        return "PASS" if self.passed else "MISS"


@dataclass
class Section:
    """One workload's part of the report."""

    name: str
    title: str
    lines: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def line(self, text: str) -> None:
        self.lines.append(text)

    def table(self, headers: list[str], rows: list[list[str]], align: str | None = None) -> None:
        self.lines.extend(render_table(headers, rows, align))

    def verdict(self, name: str, target: str, value: float | None, bar: float | None, detail: str,
                higher: bool | None = None, passed: bool | None = None) -> None:
        if passed is None and value is not None and bar is not None and higher is not None:
            passed = value >= bar if higher else value <= bar
        self.verdicts.append(Verdict(name, target, value, bar, detail, passed))

    def versus_best_peer(self, name: str, what: str, hero: float | None, peers: dict[str, float | None],
                         higher: bool, bar: float = 1.0, fmt: Any = None, note: str = "") -> None:
        """A verdict of Poolside's ``hero`` figure against the best of ``peers`` measured in this run.

        The ratio is oriented so that > 1 is better than the peer whatever the
        unit (``hero / peer`` when higher is better, ``peer / hero`` when lower
        is); it passes at ``bar`` or above, and is always printed.
        """
        shown = fmt or (lambda v: f"{v:.3g}")
        measured = {label: value for label, value in peers.items() if value}
        if not hero or not measured:
            self.verdicts.append(Verdict(name, f"{what}: Poolside/best peer >= {bar:.2f}", None, bar,
                                         "no measurement" + (f" ({note})" if note else ""), None))
            return
        label, best = (max if higher else min)(measured.items(), key=lambda kv: kv[1])
        ratio = hero / best if higher else best / hero
        detail = (f"Poolside {shown(hero)} vs best peer {label} {shown(best)}: {ratio:.2f}x "
                  f"(bar {bar:.2f}x)" + (f"; {note}" if note else ""))
        self.verdicts.append(Verdict(name, f"{what}: Poolside/best peer >= {bar:.2f}", ratio, bar, detail,
                                     ratio >= bar))

    def render(self) -> str:
        out = [self.title, "=" * min(len(self.title), 100), *self.lines]
        for v in self.verdicts:
            out.append(f"{v.word}: {v.target}: {v.detail}")
        return "\n".join(out)

    def as_json(self) -> dict:
        return {
            "name": self.name, "title": self.title, "text": self.lines,
            "verdicts": [v.__dict__ | {"result": v.word} for v in self.verdicts],
            "data": self.data,
        }
