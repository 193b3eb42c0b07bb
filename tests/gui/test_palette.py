"""A palette switch while the window is open (the desktop going dark, ``QApplication.setPalette``)
restyles every view: charts, tables, hints.  Reproduced: the window's stylesheet pinned each
child's palette at the first polish, so after a switch the plots, tables and headers kept the
light look on a dark window."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget

from poolside.gui.theme import derive_hint_colors, hint_color
from poolside.gui.widgets.plot_base import PalettePlot
from poolside.gui.widgets.value_labels import ValueLabels
from tests import study_fakes
from tests.gui_helpers import WindowDriver, open_window
from tests.study_fakes import FakeHistory, FakeStudyClient, run_record

Role = QPalette.ColorRole
#: What a dark desktop scheme sets (Breeze Dark-like), PlaceholderText included: the window derives its own.
DARK = {Role.Window: "#202124", Role.WindowText: "#e8eaed", Role.Base: "#17181a", Role.AlternateBase: "#26272a",
        Role.Text: "#e8eaed", Role.Button: "#2d2e31", Role.ButtonText: "#e8eaed", Role.PlaceholderText: "#3a3a3a"}
#: Backgrounds every widget takes from the application's palette.
BACKGROUNDS = (Role.Window, Role.Base, Role.AlternateBase, Role.Button, Role.Highlight)
#: Text colours, which a stylesheet's ``color:`` sets all of (hint, error and warning labels).
FOREGROUNDS = (Role.WindowText, Role.Text, Role.ButtonText, Role.PlaceholderText)
DISABLED_TEXT = "#7f8185"


def _dark(light: QPalette) -> QPalette:
    dark = QPalette(light)
    for role, color in DARK.items():
        dark.setColor(role, QColor(color))  # every group
    for role in (Role.WindowText, Role.Text, Role.ButtonText):
        dark.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return dark


def _name(w: QWidget) -> str:
    return f"{type(w).__name__}({w.accessibleName() or w.objectName() or type(w.parent()).__name__})"


def stale(window: QWidget, pal: QPalette) -> list[str]:
    """Every place the window still shows a colour that is not ``pal``'s."""
    problems = []
    for w in [window, *window.findChildren(QWidget)]:
        wp = w.palette()
        group = wp.currentColorGroup()  # a disabled button's text is the palette's disabled text
        problems += [f"{_name(w)} {r.name}" for r in BACKGROUNDS if wp.color(group, r) != pal.color(group, r)]
        role = w.property("role")
        if role == "hint":  # secondary text: the palette's placeholder colour (derived from its text)
            expected = {r: pal.color(group, Role.PlaceholderText) for r in FOREGROUNDS[:3]}
        elif role is None:
            expected = {r: pal.color(group, r) for r in FOREGROUNDS}
        else:  # error and warning labels: a status colour that reads on both
            expected = {}
        problems += [f"{_name(w)} {r.name}" for r, c in expected.items() if wp.color(group, r).rgb() != c.rgb()]
    for plot in window.findChildren(PalettePlot):
        if plot.backgroundBrush().color() != pal.color(Role.Base):
            problems.append(f"{_name(plot)} background")
        for side in ("left", "bottom"):
            axis = plot.getPlotItem().getAxis(side)
            if axis.textPen().color() != pal.color(Role.WindowText) or axis.pen().color().rgb() != pal.color(
                    Role.WindowText).rgb():
                problems.append(f"{_name(plot)} {side} axis")
            if axis.labelStyle.get("color") != pal.color(Role.WindowText).name():
                problems.append(f"{_name(plot)} {side} label")
    return problems


def switch(qtbot, window: QWidget, pal: QPalette) -> None:
    """Set the application's palette as a desktop scheme switch does, and wait for the window to follow
    (Qt posts the change to top-level windows: it arrives with the next events)."""
    app = QApplication.instance()
    app.setPalette(pal)

    def follows() -> None:
        assert stale(window, app.palette()) == []

    qtbot.waitUntil(follows, timeout=5_000)


@pytest.fixture
def window(qtbot, tmp_path):
    app = QApplication.instance()
    saved = app.palette()
    app.setPalette(app.style().standardPalette())
    history = FakeHistory()
    history.add_run("r1", run_record("wordcount", [str(tmp_path / "a.txt")], started=time.time() - 60))
    client = FakeStudyClient()
    w = open_window(qtbot, tmp_path, study_client=client, history=history)
    w.client = client
    yield w
    w.run_ws.files.shutdown()
    app.setPalette(saved)


def value_colors(chart) -> set[str]:
    """The colours of the bars' value labels (one item draws them all)."""
    return {it.color().name() for it in chart.getPlotItem().items if isinstance(it, ValueLabels) and it.isVisible()}


def test_switching_light_dark_light_restyles_every_view(qtbot, window, tmp_path):
    app = QApplication.instance()
    compare = window.compare_ws
    window.tabs.setCurrentWidget(compare)
    note = tmp_path / "note.txt"
    note.write_text("one two\n", encoding="utf-8")
    driver = WindowDriver(qtbot, window)
    driver.add_files([note])
    driver.choose_plugin("wordcount")
    assert compare.start_study()
    window.client.play(study_fakes.study())  # the charts have bars, value labels and lines to recolour
    chart = compare.view.chart
    assert chart.bar_count
    # Every tab's charts and tables are looked at, shown or not: Run (machine, cores, workers,
    # timeline), Compare (speed-up, scaling), History.
    plots, tables = window.findChildren(PalettePlot), window.findChildren(QAbstractItemView)
    assert len(plots) >= 8 and len(tables) >= 3
    light = app.palette()
    assert stale(window, light) == []

    switch(qtbot, window, _dark(light))
    dark = app.palette()
    assert dark.color(Role.Base) == QColor(DARK[Role.Base])
    for plot in plots:
        assert plot.backgroundBrush().color() == QColor(DARK[Role.Base])
        assert plot.getPlotItem().getAxis("left").textPen().color() == QColor(DARK[Role.WindowText])
    for table in tables:
        assert table.palette().color(Role.Base) == QColor(DARK[Role.Base])
        assert table.palette().color(Role.AlternateBase) == QColor(DARK[Role.AlternateBase])
        text = table.palette().color(Role.Text)
        assert text == QColor(DISABLED_TEXT if not table.isEnabled() else DARK[Role.Text])
    # A dark scheme's own placeholder grey is unreadable on it: the window derives one from the text,
    # and the hint labels and empty tables' hints use it.
    assert dark.color(Role.PlaceholderText).lightness() > QColor(DARK[Role.Window]).lightness() + 90
    assert value_colors(chart) == {DARK[Role.WindowText]}

    switch(qtbot, window, light)
    assert app.palette().color(Role.Base) == light.color(Role.Base)
    assert {p.backgroundBrush().color().name() for p in plots} == {light.color(Role.Base).name()}
    assert value_colors(chart) == {light.color(Role.WindowText).name()}


def test_hint_text_reads_on_a_dark_palette(qtbot):
    app = QApplication.instance()
    saved = app.palette()
    try:
        dark = QPalette(saved)
        for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed")):
            dark.setColor(role, QColor(color))
        dark.setColor(QPalette.ColorRole.PlaceholderText, QColor("#3a3a3a"))  # what a dark scheme may leave
        app.setPalette(dark)
        derive_hint_colors()
        hint = app.palette().color(QPalette.ColorRole.PlaceholderText)
        assert hint == hint_color(dark)
        assert hint.lightness() - QColor("#202124").lightness() > 90  # reads on the dark window
        assert QColor("#e8eaed").lightness() - hint.lightness() > 60  # and is still secondary
        label = QLabel("hint")
        label.setProperty("role", "hint")
        label.setStyleSheet('QLabel[role="hint"] { color: palette(placeholder-text); }')
        qtbot.addWidget(label)
        label.show()
        assert label.palette().color(QPalette.ColorRole.WindowText) == hint
    finally:
        app.setPalette(saved)
