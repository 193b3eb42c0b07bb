"""Colours, icons and the stylesheet: the window follows the system palette.

Nothing here hard-codes a light or dark background.  Status colours are
mid-tones that read on both; row tints are translucent so the palette's base
colour shows through.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

STATUS_COLORS: dict[str, str] = {
    "ok": "#2e9e5b",
    "failed": "#d94040",
    "timed_out": "#e08a14",
    "cancelled": "#8c919a",
}

#: A colour per status for row backgrounds: translucent, palette shows through.
_ROW_TINT_ALPHA = {"failed": 46, "timed_out": 46}

ACCENT = "#3d7fd9"


def status_color(status: object) -> QColor:
    return QColor(STATUS_COLORS.get(str(status), "#8c919a"))


def row_tint(status: object) -> QColor | None:
    alpha = _ROW_TINT_ALPHA.get(str(status))
    if alpha is None:
        return None
    c = status_color(status)
    c.setAlpha(alpha)
    return c


@functools.lru_cache(maxsize=None)
def status_icon(status: str, size: int = 10) -> QIcon:
    """A filled dot in the status colour, sharp on high-DPI screens."""
    icon = QIcon()
    for ratio in (1.0, 2.0):
        px = QPixmap(QSize(int(size * ratio), int(size * ratio)))
        px.setDevicePixelRatio(ratio)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(status_color(status))
        p.drawEllipse(1, 1, size - 2, size - 2)
        p.end()
        icon.addPixmap(px)
    return icon


def resource(*parts: str) -> Path:
    return RESOURCES.joinpath(*parts)


def app_icon() -> QIcon:
    path = resource("icons", "poolside.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def stylesheet() -> str:
    path = resource("styles", "poolside.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
