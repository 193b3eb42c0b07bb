"""A titled section of a panel, shared by every workspace."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QVBoxLayout, QWidget


def group(title: str, widget: QWidget, *, stretch: bool = False) -> QGroupBox:
    """A titled section; the title is bold, the contents keep the normal font."""
    box = QGroupBox(title)
    font = box.font()
    font.setBold(False)  # explicitly, or the contents would inherit the bold title
    widget.setFont(font)
    font.setBold(True)
    box.setFont(font)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(8, 6, 8, 8)
    lay.addWidget(widget, 1 if stretch else 0)
    return box
