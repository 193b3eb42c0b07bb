"""One configuration opened: its repeats, its insights and, when the study kept it, its timeline."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from poolside.words import units as fmt

from ..widgets.timeline import TimelinePlot
from .record import config_label, cpu_cores_used

#: The per-item fields a timeline needs, in the order a study keeps them.
TIMELINE_FIELDS = ("worker", "started_s", "elapsed_s", "status")


def timeline_items(config: Mapping[str, Any]) -> list[SimpleNamespace]:
    """The config's ``timeline`` rows (``[worker, started_s, elapsed_s, status]``) as outcome-like records."""
    return [SimpleNamespace(**dict(zip(TIMELINE_FIELDS, row))) for row in config.get("timeline") or ()]


def insight_rows(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for the numbers of one configuration."""
    cores = cpu_cores_used(config)
    rows = [
        ("Repeats", ", ".join(fmt.human_duration(w) for w in config.get("wall_s", ())) or "–"),
        ("Median", f"{fmt.human_duration(config.get('median_s'))} ± {fmt.human_duration(config.get('mad_s'))} (MAD)"),
        ("Speed-up", f"{float(config.get('speedup') or 0):.2f}× against sequential"),
        ("Efficiency", f"{100 * float(config.get('efficiency') or 0):.0f} % (speed-up per worker)"),
        ("CPU used", f"{fmt.human_duration(config.get('cpu_s'))} ({cores:.1f} cores' worth)"),
        ("Peak memory", fmt.human_bytes(float(config.get("peak_mb") or 0) * 1024 * 1024)),
        ("Start-up", fmt.human_duration(config.get("startup_s"))),
        ("Outcomes", ", ".join(f"{config.get(k, 0)} {k.replace('_', ' ')}"
                               for k in ("ok", "failed", "timed_out", "cancelled"))),
    ]
    if config.get("busy_workers") is not None:
        rows.append(("Busy workers", f"{float(config['busy_workers']):.1f} of {config.get('workers', '?')} "
                                     "(the rest idle, on average)"))
    if config.get("gil") is not None:
        rows.append(("GIL", "held: threads took turns" if config["gil"] else "released: threads ran at once"))
    for warning in config.get("warnings") or ():
        rows.append(("Warning", str(warning)))
    if config.get("error"):
        rows.append(("Could not run", str(config["error"])))
    for key, value in (config.get("insights") or {}).items():
        if isinstance(value, float):
            value = f"{value:.3g}"
        elif isinstance(value, (list, tuple)):
            value = ", ".join(f"{v:.0%}" if isinstance(v, float) else str(v) for v in value)
        rows.append((key.replace("_", " ").capitalize(), str(value)))
    return rows


class ConfigDialog(QDialog):
    """A configuration's numbers and timeline, opened from the chart or the table."""

    def __init__(self, config: Mapping[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Configuration: {config_label(config)}")
        form = QFormLayout()
        for label, text in insight_rows(config):
            value = QLabel(text)
            value.setWordWrap(True)
            form.addRow(label, value)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        items = timeline_items(config)
        self.timeline: TimelinePlot | None = None
        if items:
            self.timeline = TimelinePlot(self)
            self.timeline.reset(int(config.get("workers") or 1))
            self.timeline.add(items)
            self.timeline.redraw()
            lay.addWidget(self.timeline, 1)
            self.resize(720, 520)
        else:
            note = QLabel("The study kept no per-item timeline for this configuration.")
            note.setProperty("role", "hint")
            lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
