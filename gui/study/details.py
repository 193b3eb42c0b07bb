"""One configuration opened: its repeats, its start-up, memory and CPU, and why it could not run."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from poolside.study import ConfigResult
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.study import warning


def insight_rows(config: ConfigResult) -> list[tuple[str, str]]:
    """(label, text) for the numbers of one configuration."""
    s, counts = config.spread, config.counts
    rows = [
        ("Repeats", ", ".join(fmt.human_duration(w) for w in config.wall_s) or "–"),
        ("Median", f"{fmt.human_duration(s.median)} ± {fmt.human_duration(s.mad)} (MAD)"),
        ("Speed-up", f"{config.speedup:.2f}× against sequential"),
        ("Efficiency", f"{100 * config.efficiency:.0f} % (speed-up per worker)"),
        ("CPU used", f"{fmt.human_duration(config.cpu_s)} ({config.cores_used:.1f} cores' worth)"),
        ("Peak memory", fmt.human_bytes(config.peak_bytes)),
        ("Per worker", "–" if config.worker_mb is None else
         f"{fmt.human_bytes(config.worker_mb * 1e6)} of its own (USS) in the largest worker process"),
        ("Parent", "–" if config.parent_mb is None else
         f"{fmt.human_bytes(config.parent_mb * 1e6)} of its own (USS) in the process that ran the job"),
        ("Start-up", fmt.human_duration(config.startup_s)),
        ("Outcomes", ", ".join(f"{counts.get(k, 0)} {k.replace('_', ' ')}"
                               for k in ("ok", "failed", "timed_out", "cancelled"))),
    ]
    if config.runs:
        rows.append(("Busy workers", f"{config.busy_workers:.1f} of {config.config.workers} "
                                     "(the rest idle, on average)"))
    if config.gil is not None:
        rows.append(("GIL", "held: threads took turns" if config.gil else "released: threads ran at once"))
    for code in config.warnings():
        rows.append(("Warning", warning(code)))
    if config.error:
        rows.append(("Could not run", config.error))
    return rows


class ConfigDialog(QDialog):
    """A configuration's numbers, opened from the chart or the table."""

    def __init__(self, config: ConfigResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.setWindowTitle(f"Configuration: {config_label(config.config)}")
        form = QFormLayout()
        for label, text in insight_rows(config):
            value = QLabel(text)
            value.setWordWrap(True)
            form.addRow(label, value)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
