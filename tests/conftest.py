"""Shared by every test: Qt renders offscreen (no display needed), and the history lives in a
temporary folder (never the user's data folder).

Set before anything imports Qt; kept minimal on purpose.
"""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fork Poolside's zygote now, while pytest still runs one thread, as a program
# that starts threads later (the window) would: process runs in every test then
# fork their workers from it, never from this (soon threaded) process.
from poolside.backends.workers import prestart

prestart()


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory, monkeypatch):
    """Every test records its runs into its own empty history."""
    monkeypatch.setenv("POOLSIDE_HOME", str(tmp_path_factory.mktemp("poolside-home")))
    monkeypatch.delenv("POOLSIDE_HISTORY", raising=False)


@pytest.fixture
def driver(qtbot, tmp_path):
    """A shown window on settings of its own, worked through :class:`tests.gui_helpers.WindowDriver`;
    closed at the end, which cancels its run and ends its run host."""
    from tests.gui_helpers import WindowDriver, open_window

    d = WindowDriver(qtbot, open_window(qtbot, tmp_path))
    yield d
    d.close()
