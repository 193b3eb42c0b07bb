"""Run and Cancel, the progress bar with counts, items/s and ETA, and the summary line."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStyle,
    QStyleOptionProgressBar,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poolside.records import STATUS_ORDER, Status
from poolside.words import units as fmt
from poolside.words.configs import config_label
from poolside.words.runs import insight_sentences


def counts_html(counts: dict[str, int], *, all_statuses: bool = False) -> str:
    parts = []
    for status in STATUS_ORDER:
        n = counts.get(status.value, 0)
        if n or all_statuses or status is Status.OK:
            dot = f"<span style='color:{status.color}'>●</span>"
            parts.append(f"{dot} {fmt.count(n)} {status.label}")
    return " &nbsp; ".join(parts)


def output_folder(plugin: Any, values: dict[str, Any]) -> str | None:
    """Where a plugin writes its outputs, as an absolute path: its first folder parameter
    (a ``Path`` named like out/dir/folder, as the settings form picks folders), resolved
    against the current directory exactly as the workers will resolve it."""
    for p in getattr(plugin, "params", ()):
        if p.type is Path and any(w in p.name.lower() for w in ("out", "dir", "folder")):
            value = values.get(p.name, p.default)
            if isinstance(value, (str, os.PathLike)) and os.fspath(value):
                return os.path.abspath(os.fspath(value))
    return None


def finished_count(summary: Any) -> int:
    """Items that ran to an end (every status but cancelled)."""
    return summary.total - summary.counts.get(Status.CANCELLED.value, 0)


def was_cancelled(summary: Any, cancel_requested: bool) -> bool:
    """A run reads as cancelled only if the cancel cancelled something: an Esc that came
    after the last item (or while the last results were on their way) changed nothing."""
    if summary is None:
        return cancel_requested
    return cancel_requested and summary.counts.get(Status.CANCELLED.value, 0) > 0


class ProgressBar(QProgressBar):
    """A progress bar that schedules its repaint instead of painting at once.

    ``QProgressBar.setValue`` repaints synchronously, which paints every dirty
    widget of the window right there, inside whatever slot set the value.
    Here the value is stored and the bar repaints with the rest of the window.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown = 0

    def setValue(self, value: int) -> None:
        self._shown = value
        self.update()

    def value(self) -> int:
        return self._shown

    def text(self) -> str:
        return self._format_text()

    def _format_text(self) -> str:
        lo, hi, v = self.minimum(), self.maximum(), self._shown
        pct = 0 if hi <= lo else int(100 * (v - lo) / (hi - lo))
        return self.format().replace("%v", fmt.count(v)).replace("%m", fmt.count(hi)).replace("%p", str(pct))

    def paintEvent(self, _event) -> None:
        opt = QStyleOptionProgressBar()
        self.initStyleOption(opt)
        opt.progress = max(self.minimum(), min(self._shown, self.maximum()))
        opt.text = self._format_text()
        p = QStylePainter(self)
        p.drawControl(QStyle.ControlElement.CE_ProgressBar, opt)


class ProgressPanel(QWidget):
    """What the current run is doing, and what the last one did."""

    def __init__(self, run_action: QAction, cancel_action: QAction, parent: QWidget | None = None,
                 controls: list[QAction] | None = None) -> None:
        """``controls``: the live run's actions (Pause, Resume, Stop After Current Items), a button each
        after Cancel, shown while its action is visible."""
        super().__init__(parent)
        self.run_button = QToolButton(self)
        self.run_button.setDefaultAction(run_action)
        self.run_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.run_button.setObjectName("runButton")
        self.cancel_button = QToolButton(self)
        self.cancel_button.setDefaultAction(cancel_action)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.control_buttons: list[QToolButton] = []
        for action in controls or ():
            # Icons only, so that the row fits a small window; the menu and the tooltip say the words.
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            button.setAccessibleName(action.text())
            button.setVisible(action.isVisible())
            action.changed.connect(lambda b=button, a=action: b.setVisible(a.isVisible()))
            self.control_buttons.append(button)

        self.bar = ProgressBar(self)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("")
        # Wide enough to read at a glance; the row's buttons (Run, Cancel, Preview, Pause,
        # Stop) and this set the window's minimum width, kept under 800 px.
        self.bar.setMinimumWidth(100)

        self.stats = QLabel(self)
        self.stats.setObjectName("runStats")
        self.stats.setTextFormat(Qt.TextFormat.RichText)

        self.headline = QLabel(self)
        self.headline.setObjectName("headline")
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = self._row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        for button in self.control_buttons:
            row.addWidget(button)
        row.addWidget(self.bar, 1)
        row.addWidget(self.stats)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.output = QLabel(self)
        self.output.setObjectName("outputFolder")
        self.output.setTextFormat(Qt.TextFormat.RichText)
        self.output.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.output.linkActivated.connect(self.open_output_folder)
        self.output.setVisible(False)
        self._output_dir: str | None = None
        self.note = QLabel(self)
        self.note.setObjectName("runNote")
        self.note.setWordWrap(True)
        self.note.setProperty("role", "hint")  # drawn muted, as every hint: beside the run, not news about it
        self.note.setVisible(False)

        lay.addLayout(row)
        lay.addWidget(self.headline)
        lay.addWidget(self.output)
        lay.addWidget(self.note)
        self.set_idle("Ready. Add files, choose a task and press <b>Run</b> (Ctrl+R).")

    def add_action_button(self, action: QAction) -> QToolButton:
        """A button for ``action`` beside Run and Cancel (Preview)."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._row.insertWidget(self._row.indexOf(self.bar), button)
        return button

    def set_output_folder(self, path: str | None) -> None:
        """Say where the task writes its outputs (None: it writes none), with a link to open it."""
        self._output_dir = path
        self.output.setVisible(path is not None)
        if path is not None:
            self.output.setText(f"Outputs go to <b>{html.escape(path)}</b> &nbsp; <a href='open'>Open folder</a>")
            self.output.setToolTip(path)
            self.output.setAccessibleName(f"Outputs go to {path}")

    def set_note(self, text: str) -> None:
        """A line of plain text under the run (what can be done meanwhile); "" hides it."""
        self.note.setText(text)
        self.note.setAccessibleName(text)
        self.note.setVisible(bool(text))

    def open_output_folder(self, *_args) -> bool:
        """Open the output folder in the system's file manager (it may not exist yet)."""
        path = self._output_dir
        if path is None or not os.path.isdir(path):
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def set_headline(self, text: str) -> None:
        """Say what the run is doing now (rich text), keeping the counts."""
        self.headline.setText(text)

    def set_idle(self, text: str) -> None:
        self.headline.setText(text)
        self.headline.setToolTip("")
        self.stats.setText("")

    def start(self, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 0))  # 0..0 is Qt's "busy" bar for an unknown total
        self.bar.setValue(0)
        self.bar.setFormat("%v / %m")
        self.headline.setText(text)
        self.headline.setToolTip("")
        self.stats.setText(counts_html({}) + " &nbsp;·&nbsp; starting…")

    def update_progress(self, progress: Any) -> None:
        done = progress.done
        if self.bar.maximum() > 0:
            self.bar.setValue(min(done, self.bar.maximum()))
        parts = [counts_html(progress.counts), fmt.rate(progress.items_per_s)]
        eta, predicted = progress.eta()
        if eta is not None and done < progress.total:
            parts.append(f"ETA {fmt.clock(eta)}" + (" (predicted)" if predicted else ""))
        self.stats.setText(" &nbsp;·&nbsp; ".join(parts))

    def finish(self, summary: Any, *, cancelled: bool, label: str, peak_memory: float = 0.0,
               stopped: bool = False) -> None:
        """The run's end: ``cancelled`` shows what finished, and a rate over those items only;
        ``stopped``: it was stopped after its current items (it reads so)."""
        total = summary.total if summary is not None else 0
        done = finished_count(summary) if summary is not None else 0
        if self.bar.maximum() == 0:
            self.bar.setRange(0, max(total, 1))
        if cancelled:
            self.bar.setFormat("%v / %m finished")
            self.bar.setValue(min(done, self.bar.maximum()))
        else:
            self.bar.setValue(self.bar.maximum())
        if summary is None:
            self.headline.setText(f"{html.escape(label)} ended.")
            return
        label = html.escape(label)
        rate = done / summary.wall_s if summary.wall_s > 0 else 0.0
        what = (f"{fmt.count(done)} of {fmt.count(total)} items finished" if cancelled
                else f"{fmt.count(total)} items")
        text = (
            f"<b>{'Stopped' if stopped else 'Cancelled' if cancelled else 'Done'}</b>: {label}: {what} in "
            f"{fmt.human_duration(summary.wall_s)}"
            f", <b>{fmt.rate(rate)}</b> on {config_label(summary)}"
            f", {fmt.human_duration(summary.cpu_s)} CPU"
        )
        insights = getattr(summary, "insights", None)
        words = insight_sentences(insights)
        if peak_memory > 0 and insights is None:  # insights say it otherwise
            text += f", peak memory {fmt.human_bytes(peak_memory)}"
        if words:
            text += "<br>" + html.escape(" ".join(words))
        # The figures behind the sentences, as `poolside run --insights` prints them.
        self.headline.setToolTip("\n".join(insight_sentences(insights, detail=True)[len(words):]))
        if summary.input_error:
            why = html.escape(str(summary.input_error))
            text += f"<br><span style='color:{Status.FAILED.color}'>The input failed: {why}</span>"
        self.headline.setText(text)
        self.stats.setText(counts_html(summary.counts))  # the statuses that happened: fits beside the bar
