"""The Task panel: which plugin runs, what it does, and its parameters."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ... import settings as cfg
from .params_form import ParamsForm

BOUND_TEXT = {
    "cpu": ("CPU-bound", "Spends its time computing: processes win, threads gain little (the GIL)."),
    "io": ("I/O-bound", "Spends its time waiting on disk or network: threads win, and more workers than cores help."),
    "mixed": ("Mixed", "Computes and waits: try both backends and compare."),
}


def accepts_text(patterns: Sequence[str], shown: int = 4) -> str:
    """``*.png, *.jpg, *.gif, *.bmp and 4 more`` (``any file`` when empty)."""
    if not patterns:
        return "any file"
    head = ", ".join(patterns[:shown])
    rest = len(patterns) - shown
    return f"{head} and {rest} more" if rest > 0 else head


def plugin_source_kind(plugin: Any) -> str:
    """``"built-in"``, ``"installed"`` or ``"file"`` from a plugin's ``source``."""
    source = str(getattr(plugin, "source", "") or "")
    if source.endswith(".py") or os.sep in source or source.startswith("file"):
        return "file"
    if source in ("", "builtin", "built-in") or source.startswith("poolside.plugins"):
        return "built-in"
    return "installed"


class TaskPanel(QWidget):
    """Plugin chooser, description, bound, accepted files and the parameter form."""

    #: The plugin now chosen (or ``None``).
    pluginChanged = Signal(object)
    #: A status bar message.
    message = Signal(str)
    #: A parameter value was edited.
    valuesChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plugins: list[Any] = []
        self._stored: dict[str, dict] = {}  # plugin name -> last values
        self.load_errors: list[Any] = []
        # A job's plugin file named but not imported yet: (file, plugin name, parameters as recorded).
        # Importing a file runs its top-level code, so that waits until the user runs or edits it.
        self._pending: tuple[str, str, dict[str, Any]] | None = None
        self._settings: QSettings | None = None  # where accepted plugin files are remembered

        self.combo = QComboBox(self)
        self.combo.setToolTip("The task to run over every file")
        self.combo.setAccessibleName("Task")
        self.combo.currentIndexChanged.connect(self._on_index)
        self.load_button = QPushButton("Load plugin file…", self)
        self.load_button.setToolTip("Load the plugins defined in a Python file")
        self.load_button.clicked.connect(self.choose_plugin_file)
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.combo, 1)
        top.addWidget(self.load_button)
        self.edit_button = QPushButton("Edit parameters", self)
        self.edit_button.setAccessibleName("Edit parameters")
        self.edit_button.setToolTip("Load the job's plugin file to edit its parameters")
        self.edit_button.clicked.connect(self.ensure_loaded)
        self.edit_button.hide()

        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.facts = QLabel(self)
        self.facts.setProperty("role", "hint")
        self.facts.setWordWrap(True)
        self.load_note = QLabel(self)
        self.load_note.setProperty("role", "warning")
        self.load_note.setWordWrap(True)
        self.load_note.hide()

        self.form = ParamsForm(self)
        self.problems = QLabel(self)
        self.problems.setObjectName("problems")
        self.problems.setProperty("role", "error")
        self.problems.setWordWrap(True)
        self.problems.hide()
        self.form.changed.connect(self._clear_problems)
        self.form.changed.connect(self.valuesChanged)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.load_note)
        lay.addWidget(self.description)
        lay.addWidget(self.facts)
        lay.addSpacing(2)
        lay.addWidget(self.form)
        lay.addWidget(self.edit_button)
        lay.addWidget(self.problems)

    # -- plugins ------------------------------------------------------------
    @property
    def plugins(self) -> list[Any]:
        return list(self._plugins)

    def add_plugins(self, plugins: Sequence[Any], errors: Sequence[Any] = ()) -> None:
        """Add plugins to the chooser (a plugin with the same name and source replaces its twin)."""
        current = self.current_plugin()
        for p in plugins:
            twin = next(
                (i for i, q in enumerate(self._plugins) if q.name == p.name and q.source == p.source), None
            )
            if twin is None:
                self._plugins.append(p)
            else:
                self._plugins[twin] = p
        self.load_errors.extend(errors)
        self._rebuild(current)
        self._show_errors()

    def _rebuild(self, keep: Any) -> None:
        names = [p.name for p in self._plugins]
        self.combo.blockSignals(True)
        self.combo.clear()
        for i, p in enumerate(self._plugins):
            kind = plugin_source_kind(p)
            text = p.name if names.count(p.name) == 1 and kind == "built-in" else f"{p.name}  ({kind})"
            self.combo.addItem(text, i)
            self.combo.setItemData(self.combo.count() - 1, p.description, Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)
        index = self._plugins.index(keep) if keep in self._plugins else 0
        self.combo.setCurrentIndex(-1)
        self.combo.setCurrentIndex(index if self._plugins else -1)

    def _show_errors(self) -> None:
        if not self.load_errors:
            self.load_note.hide()
            return
        n = len(self.load_errors)
        self.load_note.setText(f"{n} plugin{'s' if n != 1 else ''} could not be loaded (hover for why).")
        self.load_note.setToolTip("\n".join(f"{e.source}: {e.reason}" for e in self.load_errors))
        self.load_note.show()

    def load_plugin_file(self, path: str) -> list[Any]:
        """Load the plugins of a Python file and choose the first; return them.

        Loading a file is the user's consent to run it as it reads now: a job naming it later loads without asking."""
        from poolside.plugins import load_plugin_file

        if os.path.isfile(path):
            self._remember_trusted(path)

        try:
            plugins, errors = load_plugin_file(path)
        except Exception as exc:  # a broken file must not take the window down
            plugins, errors = [], []
            self.message.emit(f"Could not load {path}: {exc}")
            self.show_problems([f"Could not load {os.path.basename(path)}: {exc}"])
            return []
        if errors and not plugins:
            reasons = "; ".join(str(e.reason) for e in errors)
            self.show_problems([f"No plugin loaded from {os.path.basename(path)}: {reasons}"])
        self.add_plugins(plugins, errors)
        if plugins:
            self.select(plugins[0].name, plugins[0].source)
            self.message.emit(f"Loaded {len(plugins)} plugin{'s' if len(plugins) != 1 else ''} from {path}.")
        return list(plugins)

    def choose_plugin_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load plugin file", os.path.expanduser("~"), "Python files (*.py)")
        if path:
            self.load_plugin_file(path)

    # -- plugin files not imported yet ------------------------------------------
    def settings(self) -> QSettings:
        if self._settings is None:
            self._settings = cfg.open_settings()
        return self._settings

    def _remember_trusted(self, path: str) -> bool:
        try:
            cfg.trust_plugin(self.settings(), path)
        except OSError as exc:
            self.message.emit(f"Could not read {path}: {exc.strerror or exc}")
            return False
        return True

    def pending(self) -> tuple[str, str, dict[str, Any]] | None:
        """The job's plugin file, its plugin's name and parameters, while the file is not imported."""
        return None if self._pending is None else (self._pending[0], self._pending[1], dict(self._pending[2]))

    def defer(self, path: str, name: str, params: dict[str, Any] | None = None) -> None:
        """Name the plugin ``name`` of ``path`` and show ``params`` without importing the file."""
        self.combo.setCurrentIndex(-1)  # no loaded plugin is the job's
        self._pending = (path, name, dict(params or {}))
        self._show_pending()

    def _show_pending(self) -> None:
        if self._pending is None:
            return
        path, name, params = self._pending
        self.description.setText(f"{name}, from the plugin file {path}")
        recorded = ", ".join(f"{k} = {v!r}" for k, v in params.items()) or "none"
        self.facts.setText(f"Parameters as recorded: {recorded}")
        self.facts.setToolTip("The file is loaded (its code runs) only when you run the job or edit its parameters.")
        self.form.hide()  # the recorded parameters above stand for it until the plugin is loaded
        self.edit_button.show()

    def ask_to_load(self, path: str) -> bool:
        """Whether the user agrees to import ``path``: its code runs in this window with the user's rights."""
        box = QMessageBox(QMessageBox.Icon.Question, "Load plugin file?",
                          f"This job runs code from the plugin file\n{path}\n\n"
                          "Loading it runs that code with your permissions. Load it only if you trust it.",
                          QMessageBox.StandardButton.NoButton, self)
        load = box.addButton("Load and run", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        load.setAccessibleName("Load and run")
        cancel.setAccessibleName("Cancel")
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is load

    def confirm_ref(self, ref: str) -> bool:
        """Before something else imports a job's plugin: a file the user has not accepted as it reads now
        is asked about (and remembered if accepted); a plugin that is not a file needs no asking."""
        path, sep, _name = ref.rpartition(":")
        if not (sep and os.path.isfile(path)) or cfg.is_trusted_plugin(self.settings(), path):
            return True
        if not self.ask_to_load(path):
            self.message.emit(f"Did not load {path}.")
            return False
        return self._remember_trusted(path)

    def ensure_loaded(self) -> bool:
        """Import the job's plugin file (asking first if the user has not accepted it as it reads now);
        False if the user declines or it does not load."""
        if self._pending is None:
            return True
        path, name, params = self._pending
        if not cfg.is_trusted_plugin(self.settings(), path) and not self.ask_to_load(path):
            self.message.emit(f"Did not load {path}.")
            return False
        self._pending = None
        self.edit_button.hide()
        self.form.show()
        self.load_plugin_file(path)
        if not self.select(name, path):
            problem = f"{os.path.basename(path)} has no plugin {name!r}."
            self.show_problems([problem])
            self.message.emit(problem)
            return False
        self.set_values(params)
        return True

    def current_plugin(self) -> Any | None:
        i = self.combo.currentData()
        return self._plugins[i] if isinstance(i, int) and 0 <= i < len(self._plugins) else None

    def select(self, name: str, source: str | None = None) -> bool:
        for i, p in enumerate(self._plugins):
            if p.name == name and (source is None or p.source == source):
                self.combo.setCurrentIndex(self.combo.findData(i))
                return True
        return False

    # -- values -------------------------------------------------------------
    def stored_values(self) -> dict[str, dict]:
        """Every plugin's last parameter values, the current one's included."""
        plugin = self.current_plugin()
        if plugin is not None:
            self._stored[plugin.name] = self.form.storable_values()
        return dict(self._stored)

    def set_stored_values(self, values: dict[str, dict]) -> None:
        self._stored = {k: dict(v) for k, v in values.items() if isinstance(v, dict)}
        plugin = self.current_plugin()
        if plugin is not None:
            self.form.reset(self._stored.get(plugin.name, {}))

    def validate(self, *, show: bool = True) -> tuple[Any | None, dict[str, Any], list[str]]:
        """``(plugin, typed values, problems)``; problems are also shown in the panel if ``show``."""
        plugin = self.current_plugin()
        if plugin is None:
            problems = ["Choose a task first."]
            if show:
                self.show_problems(problems)
            return None, {}, problems
        values, problems = self.form.validate(mark=show)
        if show:
            self.show_problems(problems)
        return plugin, values, problems

    def show_problems(self, problems: Sequence[str]) -> None:
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))

    def _clear_problems(self) -> None:
        self.problems.hide()

    # -- slots --------------------------------------------------------------
    def _on_index(self, _index: int) -> None:
        previous = getattr(self, "_shown_plugin", None)
        if previous is not None:
            self._stored[previous.name] = self.form.storable_values()
        plugin = self.current_plugin()
        self._shown_plugin = plugin
        self.problems.hide()
        if plugin is not None:
            self._pending = None  # a plugin chosen replaces the job's unloaded one
            self.edit_button.hide()
            self.form.show()
        if plugin is None:
            self.description.setText("No task available.")
            self.facts.setText("")
            self.form.set_params([])
        else:
            self.description.setText(plugin.description or "(no description)")
            bound, why = BOUND_TEXT.get(plugin.bound, (str(plugin.bound), ""))
            self.facts.setText(f"{bound} · accepts {accepts_text(plugin.accepts)}")
            full = "; ".join(plugin.accepts) if plugin.accepts else "any file"
            self.facts.setToolTip(f"{why}\nAccepts: {full}")
            self.form.set_params(plugin.params, self._stored.get(plugin.name, {}))
        self.pluginChanged.emit(plugin)

    # -- job specs and settings ------------------------------------------------
    def plugin_ref(self) -> str:
        """How a job spec names the current plugin: its name, or ``FILE.py:FUNCTION`` for a file's."""
        if self._pending is not None:
            return f"{self._pending[0]}:{self._pending[1]}"
        plugin = self.current_plugin()
        if plugin is None:
            return ""
        source = str(plugin.source or "")
        return f"{source}:{plugin.name}" if os.path.isfile(source) else plugin.name

    def select_ref(self, ref: str) -> bool:
        """Choose the plugin a job spec names; a file not loaded yet is named, not imported (:meth:`defer`)."""
        path, sep, name = ref.rpartition(":")
        if sep and os.path.isfile(path):
            if not self.select(name, path):
                self.defer(path, name)
            return True
        return self.select(ref)

    def set_values(self, values: dict[str, Any]) -> None:
        """Show these parameter values for the current plugin."""
        if self._pending is not None:
            self._pending = (self._pending[0], self._pending[1], dict(values))
            self._show_pending()
            return
        plugin = self.current_plugin()
        if plugin is not None:
            self._stored[plugin.name] = dict(values)
            self.form.reset(values)

    def save_settings(self, s: QSettings) -> None:
        plugin = self.current_plugin()
        if self._pending is not None:
            s.setValue("task/plugin", self._pending[1])
            s.setValue("task/plugin_file", self._pending[0])
            self._stored[self._pending[1]] = dict(self._pending[2])
        elif plugin is not None:
            s.setValue("task/plugin", plugin.name)
            s.setValue("task/plugin_file", plugin.source if os.path.isfile(str(plugin.source or "")) else "")
        cfg.set_json(s, "task/params", self.stored_values())

    def restore_settings(self, s: QSettings) -> None:
        self._settings = s
        plugin_file = cfg.get_str(s, "task/plugin_file")
        name = cfg.get_str(s, "task/plugin")
        stored = cfg.get_json(s, "task/params", {}) or {}
        if plugin_file and os.path.isfile(plugin_file):
            if name and not cfg.is_trusted_plugin(s, plugin_file):
                # Changed since the user loaded it, or never accepted: named now, imported on Run.
                self.set_stored_values(stored)
                self.defer(plugin_file, name, self._stored.get(name, {}))
                return
            self.load_plugin_file(plugin_file)
        self.set_stored_values(stored)
        if name:
            self.select(name, plugin_file or None) or self.select(name)
