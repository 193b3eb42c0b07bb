"""Accessible names: every control is named by the label a person sees.

Screen readers and UI automation find controls by their accessible name
("Backend", "Workers", "Run").  Qt derives one for a control with a buddy
label only inside its accessibility bridge, and ``accessibleName()`` stays
empty, so automation cannot rely on it.  :func:`name_controls` sets it
explicitly from what is visible: a button's own text, or the text of the
label whose buddy the control is.  A control with neither (a filter box, a
chooser above a table) is named by its view with ``setAccessibleName``.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

#: The kinds of widget a person operates, and so must be named.
CONTROLS: tuple[type[QWidget], ...] = (
    QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit, QAbstractItemView,
)


#: Parents whose child controls are their own parts (a spin box's line edit, a tab bar's scroll arrows).
_COMPOSITES: tuple[type[QWidget], ...] = (QAbstractSpinBox, QComboBox, QLineEdit, QTabBar, QMenu, QMenuBar,
                                               QAbstractItemView)


def is_control(w: QWidget) -> bool:
    """A widget a person operates on its own (not a part of another control, not a header)."""
    if not isinstance(w, CONTROLS) or isinstance(w, QHeaderView):
        return False
    parent = w.parentWidget()
    while parent is not None:
        if isinstance(parent, _COMPOSITES):
            return False
        parent = parent.parentWidget()
    return True


def visible_label(text: str) -> str:
    """A label's words as a name: no mnemonic ampersand, no required-field star or colon."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip().rstrip(":*").strip()


def buddies(root: QWidget) -> dict[QWidget, str]:
    """Control -> the text of the label that names it (``QLabel.setBuddy``, form rows)."""
    named: dict[QWidget, str] = {}
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and label.text():
            named[buddy] = visible_label(label.text())
    return named


def label_of(widget: QWidget, named: dict[QWidget, str]) -> str:
    """The visible label of ``widget``: its buddy label's text, else its own text."""
    if widget in named:
        return named[widget]
    if isinstance(widget, QAbstractButton) and widget.text().strip() not in ("", "…", "..."):
        return visible_label(widget.text())
    return ""


def name_controls(root: QWidget) -> None:
    """Give every unnamed control under ``root`` (and ``root``) its visible label as accessible name.

    Call again after a view rebuilds part of itself (a parameter form).
    A name already set is kept: the view chose it on purpose.
    """
    named = buddies(root)
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        if not is_control(w) or w.accessibleName():
            continue
        label = label_of(w, named)
        if label:
            w.setAccessibleName(label)
        elif w.toolTip():  # no visible words at all (an icon button): its tooltip's first line
            w.setAccessibleName(w.toolTip().splitlines()[0])


def unnamed_controls(root: QWidget) -> list[QWidget]:
    """Controls under ``root`` without an accessible name, or named unlike their visible label."""
    named = buddies(root)
    bad = []
    for w in root.findChildren(QWidget):
        if not is_control(w):
            continue
        label = label_of(w, named)
        if not w.accessibleName() or (label and w.accessibleName() != label):
            bad.append(w)
    return bad
