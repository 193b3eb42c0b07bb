"""Colours, icons and the stylesheet: the window follows the system palette.

Nothing here hard-codes a light or dark background.  Status colours are
mid-tones that read on both; row tints are translucent so the palette's base
colour shows through.

A palette switch while the window is open is handled in one place::

    desktop goes dark / QApplication.setPalette
        └─ PaletteChange on the window ─ restyle(window): hint colours derived, stylesheet re-applied
              └─ every child repolished from the new palette ─ PaletteChange on each view whose
                 palette changed ─ the view re-reads its colours (PalettePlot.on_palette_changed);
                 tables, headers and hint views paint from their palette as they are
"""

from __future__ import annotations

import functools
import logging
import weakref
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from poolside.records import STATUS_ORDER
from poolside.resources import resource

log = logging.getLogger("poolside.gui")

#: Status colours come from the one table in poolside.records (Status.color).
STATUS_COLORS: dict[str, str] = {status.value: status.color for status in STATUS_ORDER}

#: A colour per status for row backgrounds: translucent, palette shows through.
_ROW_TINT_ALPHA = {"failed": 46, "timed_out": 46}

ACCENT = "#3d7fd9"


#: How far a hint's colour goes from the text towards the background: grey enough to read
#: as secondary, far enough from the background to read at all (about 4.5:1 on both the
#: default light and a typical dark palette).
_HINT_MIX = 0.42


def hint_color(palette: QPalette) -> QColor:
    """Secondary text derived from the palette: the text colour moved towards the window's."""
    fg = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    bg = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Window)
    mix = [round(f + (b - f) * _HINT_MIX) for f, b in ((fg.red(), bg.red()), (fg.green(), bg.green()),
                                                        (fg.blue(), bg.blue()))]
    return QColor(*mix)


def derive_hint_colors() -> bool:
    """Set the application's placeholder-text role (hints, placeholders, the stylesheet's grey
    labels) from the palette's own text and window colours, so hints read in light and dark
    schemes alike: a palette that leaves it unset gets a dark grey, unreadable on a dark window.
    True if it changed the application's palette.

    Application-wide because the stylesheet's ``palette(placeholder-text)`` resolves against the
    application's palette, not the window's.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    pal = app.palette()
    color = hint_color(pal)
    if pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText) == color:
        return False  # already derived: setting it again would loop through PaletteChange
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        pal.setColor(group, QPalette.ColorRole.PlaceholderText, color)
    app.setPalette(pal)
    return True


def restyle(window: QWidget) -> None:
    """Style ``window`` from the application's palette: the hint colours, then the stylesheet.

    The window calls this once built and again on every ``PaletteChange`` it receives (the
    desktop switching to dark, ``QApplication.setPalette``); it is the one place a switch is
    handled.  Applying the stylesheet again is what makes the switch reach the views: a
    stylesheet pins the palette of every widget under it when it first polishes them (Qt's
    QStyleSheetStyle sets each one's palette explicitly), so the charts, tables and headers
    inside would keep the old colours.  Set again, even to the same text, it repolishes them
    from the new palette; each view whose palette changed then gets its own ``PaletteChange``
    and re-reads its colours there (``PalettePlot.on_palette_changed``), and the hint labels'
    ``palette(placeholder-text)`` resolves anew.
    """
    if derive_hint_colors() and window in _STYLED_UNDER:
        return  # the application's palette was set again: its own PaletteChange comes back here
    pal = QApplication.palette()
    if _STYLED_UNDER.get(window) == pal:
        return  # styled under this palette already (repolishing the whole window took 25-30 ms)
    _STYLED_UNDER[window] = pal
    sheet = stylesheet()
    if sheet:
        window.setStyleSheet(sheet)


#: The palette each window was last styled under.
_STYLED_UNDER: weakref.WeakKeyDictionary[QWidget, QPalette] = weakref.WeakKeyDictionary()


def status_color(status: object) -> QColor:
    return QColor(STATUS_COLORS.get(str(status), "#8c919a"))


def row_tint(status: object) -> QColor | None:
    alpha = _ROW_TINT_ALPHA.get(str(status))
    if alpha is None:
        return None
    c = status_color(status)
    c.setAlpha(alpha)
    return c


@functools.cache
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


def app_icon() -> QIcon:
    """The application icon, read from the package data (an SVG, sharp at any size)."""
    node = resource("icons", "poolside.svg")
    if not node.is_file():  # a packaging mistake: say so instead of a blank icon
        log.warning("the application icon is missing from the installed package (%s)", node)
        return QIcon()
    if isinstance(node, Path):  # an installed file: Qt renders the SVG at every size asked
        return QIcon(str(node))
    pixmap = QPixmap()  # inside a zip: render once from the bytes
    pixmap.loadFromData(node.read_bytes(), "SVG")
    return QIcon(pixmap)


@functools.cache
def stylesheet() -> str:
    """The window's stylesheet from the package data (bold Run, grey hints, invalid fields)."""
    try:
        return resource("styles", "poolside.qss").read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("the stylesheet is missing from the installed package: %s", exc)
        return ""
