"""A form generated from a plugin's parameters.

One editor per :class:`poolside.plugins.Param`: a spin box with the parameter's
range for numbers, a check box for booleans, a combo box for choices, a line
edit for text and a line edit with a browse button for paths.  ``validate``
runs every value through ``Param.convert`` and marks the fields it rejects.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

if TYPE_CHECKING:
    from poolside.plugins import Param

_INT_MIN, _INT_MAX = -(2**31) + 1, 2**31 - 1
_FLOAT_LIMIT = 1e15


def _is_required(param: Param) -> bool:
    return param.required


def label_for(name: str) -> str:
    """``"max_size"`` -> ``"Max size"``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class PathEdit(QWidget):
    """A line edit with a browse button; a folder picker when the name says so."""

    textChanged = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wants_dir = any(w in name.lower() for w in ("dir", "folder", "out"))
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("a folder…" if self._wants_dir else "a file…")
        self.line.textChanged.connect(self.textChanged)
        self.button = QToolButton(self)
        self.button.setText("…")
        self.button.setToolTip("Browse")
        self.button.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.line, 1)
        lay.addWidget(self.button)

    def text(self) -> str:
        return self.line.text()

    def setText(self, text: str) -> None:
        self.line.setText(text)

    def _browse(self) -> None:
        start = self.line.text() or str(pathlib.Path.home())
        if self._wants_dir:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file", start)
        if chosen:
            self.line.setText(chosen)


class ParamsForm(QWidget):
    """Editors for a list of parameters; ``changed`` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: list[Param] = []
        self._editors: dict[str, QWidget] = {}
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._layout.setLabelAlignment(self._layout.labelAlignment())
        self._empty = QLabel("This task has no parameters.")
        self._empty.setProperty("role", "hint")
        self._layout.addRow(self._empty)

    # -- building -----------------------------------------------------------
    def set_params(self, params: Sequence[Param], values: Mapping[str, Any] | None = None) -> None:
        """Rebuild the form for ``params``, starting from ``values`` where they fit."""
        while self._layout.rowCount():
            self._layout.removeRow(0)  # deletes the row's widgets
        self._params = list(params)
        self._editors = {}
        if not self._params:
            self._empty = QLabel("This task has no parameters.")
            self._empty.setProperty("role", "hint")
            self._layout.addRow(self._empty)
            return
        for p in self._params:
            editor = self._make_editor(p)
            self._editors[p.name] = editor
            label = QLabel(label_for(p.name) + ("*" if _is_required(p) else ""))
            label.setBuddy(editor)
            _name(editor, label_for(p.name))
            tip = p.help or ""
            if _is_required(p):
                tip = (tip + "\n" if tip else "") + "Required."
            label.setToolTip(tip)
            editor.setToolTip(tip)
            self._layout.addRow(label, editor)
        self.reset(values or {})

    def _make_editor(self, p: Param) -> QWidget:
        ptype = p.type
        w: QWidget
        if p.choices:
            combo = w = QComboBox()
            for c in p.choices:
                combo.addItem(str(c), c)
            combo.currentIndexChanged.connect(self.changed)
        elif ptype is bool:
            check = w = QCheckBox()
            check.toggled.connect(self.changed)
        elif ptype is int:
            spin = w = QSpinBox()
            spin.setRange(
                _INT_MIN if p.minimum is None else int(math.ceil(p.minimum)),
                _INT_MAX if p.maximum is None else int(math.floor(p.maximum)),
            )
            spin.setGroupSeparatorShown(True)
            spin.valueChanged.connect(self.changed)
        elif ptype is float:
            dspin = w = QDoubleSpinBox()
            dspin.setDecimals(_decimals_for(p.default))
            dspin.setRange(
                -_FLOAT_LIMIT if p.minimum is None else float(p.minimum),
                _FLOAT_LIMIT if p.maximum is None else float(p.maximum),
            )
            dspin.setSingleStep(_step_for(p))
            dspin.valueChanged.connect(self.changed)
        elif isinstance(ptype, type) and issubclass(ptype, pathlib.PurePath):
            path_edit = w = PathEdit(p.name)
            path_edit.textChanged.connect(self.changed)
        else:
            line = w = QLineEdit()
            if _is_required(p):
                line.setPlaceholderText("required")
            line.textChanged.connect(self.changed)
        if isinstance(w, QAbstractSpinBox):
            w.setKeyboardTracking(False)
            w.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
            w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        w.setObjectName(f"param_{p.name}")
        return w

    # -- values -------------------------------------------------------------
    @property
    def params(self) -> list[Param]:
        return list(self._params)

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def reset(self, values: Mapping[str, Any] | None = None) -> None:
        """Each editor to ``values[name]`` if it converts, else the default."""
        values = values or {}
        for p in self._params:
            value = p.default
            if p.name in values:
                try:
                    value = p.convert(values[p.name])
                except Exception as e:  # a stale saved setting (the plugin changed): keep the default
                    from poolside.log import get_logger

                    get_logger(__name__).info("setting %r: %r no longer fits (%s); the default is used",
                                              p.name, values[p.name], e)
                    value = p.default
            self.set_value(p.name, value)
        for w in self._editors.values():
            _mark(w, False)

    def set_value(self, name: str, value: Any) -> None:
        p = next(p for p in self._params if p.name == name)
        w = self._editors[name]
        missing = _is_required(p) and value is p.default
        if isinstance(w, QComboBox):
            i = w.findData(value)
            if i < 0:
                i = w.findText(str(value))
            w.setCurrentIndex(max(i, 0))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value) if not missing else False)
        elif isinstance(w, QSpinBox):
            w.setValue(int(value) if not missing else max(w.minimum(), min(0, w.maximum())))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value) if not missing else max(w.minimum(), min(0.0, w.maximum())))
        elif isinstance(w, (QLineEdit, PathEdit)):
            w.setText("" if missing or value is None else str(value))

    def raw_values(self) -> dict[str, Any]:
        """What the editors hold, before conversion (text stays text)."""
        out: dict[str, Any] = {}
        for name, w in self._editors.items():
            if isinstance(w, QComboBox):
                out[name] = w.currentData()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
            else:
                out[name] = w.text()  # type: ignore[attr-defined]
        return out

    def validate(self, *, mark: bool = True) -> tuple[dict[str, Any], list[str]]:
        """Typed values and the problems found (empty when all is well); ``mark`` flags bad fields."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        raw = self.raw_values()
        for p in self._params:
            w = self._editors[p.name]
            v = raw[p.name]
            if _is_required(p) and isinstance(v, str) and not v.strip():
                problems.append(f"{label_for(p.name)} is required.")
                if mark:
                    _mark(w, True)
                continue
            try:
                values[p.name] = p.convert(v)
            except Exception as exc:  # ParamError names the parameter itself
                problems.append(str(exc) if hasattr(exc, "name") else f"{label_for(p.name)}: {exc}")
                if mark:
                    _mark(w, True)
            else:
                if mark:
                    _mark(w, False)
        return values, problems

    def storable_values(self) -> dict[str, Any]:
        """The current values as JSON-friendly data, for QSettings."""
        out = {}
        for k, v in self.raw_values().items():
            out[k] = v if isinstance(v, (bool, int, float, str)) or v is None else str(v)
        return out


def _name(editor: QWidget, label: str) -> None:
    """The editor's accessible name is its row's label (a path editor's line too)."""
    editor.setAccessibleName(label)
    if isinstance(editor, PathEdit):
        editor.line.setAccessibleName(label)
        editor.button.setAccessibleName(f"Browse for {label}")


def _mark(w: QWidget, invalid: bool) -> None:
    target = w.line if isinstance(w, PathEdit) else w
    if bool(target.property("invalid")) == invalid:
        return
    target.setProperty("invalid", invalid)
    target.style().unpolish(target)
    target.style().polish(target)


def _decimals_for(default: Any) -> int:
    if isinstance(default, float) and default and not default.is_integer():
        text = f"{default:.10f}".rstrip("0")
        return max(2, min(6, len(text.split(".")[1])))
    return 2


def _step_for(p: Param) -> float:
    lo, hi = p.minimum, p.maximum
    if lo is not None and hi is not None and hi > lo:
        return max(10 ** math.floor(math.log10((hi - lo) / 100)), 10 ** -_decimals_for(p.default))
    return 0.1
