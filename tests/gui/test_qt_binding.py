"""The installed Qt binding is one the window can live with."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")



def test_installed_qt_bindings_keep_their_references_to_none_and_true(qtbot):
    # PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void
    # method call (and to True on every emit): ~5,000 calls killed the process.
    # pyproject excludes that release; this catches any other that does it.
    import sys

    from PySide6.QtCore import QObject

    o = QObject()
    for _ in range(20_000):
        o.setObjectName("x")
        o.objectNameChanged.emit("x")
    assert sys.getrefcount(None) > 1_000 and sys.getrefcount(True) > 1_000
