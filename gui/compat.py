"""Work-arounds for bugs in the Qt bindings that the window cannot avoid otherwise.

PySide6 6.12.0 (abi3 wheels) on CPython 3.11 forgets to add a reference when
it returns ``None`` from a ``void`` method (``setText``, ``setEnabled``,
``update``…) and ``True`` from ``Signal.emit``/``connect``.  Each call takes
one reference away; ``None`` starts with a few thousand, so a window that
repaints and updates labels dies within a minute or two with
"Fatal Python error: none_dealloc".  CPython 3.12+ made these objects
immortal, which hides the bug there; PySide6 6.11 does not have it.

:func:`guard_refcount_leaks` measures the leak once and, only if there is
one, gives ``None``, ``True`` and ``False`` so many references that they can
never run out (2**40: at a million leaking calls a second, 12 days).  It is a
no-op on CPython 3.12+ and with bindings that count correctly.  Requiring
``PySide6-Essentials != 6.12.0`` is the real fix; this keeps the window alive
wherever that is not yet the case.
"""

from __future__ import annotations

import ctypes
import sys

_SINGLETONS = (None, True, False)
_PADDING = 1 << 40
_checked = False
_padded = False


def _leaks() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = [sys.getrefcount(o) for o in _SINGLETONS]
    for _ in range(8):
        probe.setObjectName("probe")  # void: returns None
        probe.objectNameChanged.emit("probe")  # returns True
    after = [sys.getrefcount(o) for o in _SINGLETONS]
    return any(b < a for a, b in zip(before, after))


def guard_refcount_leaks() -> bool:
    """Make the bindings' lost references harmless; True if a leak was found."""
    global _checked, _padded
    if _checked:
        return _padded
    _checked = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # immortal singletons: the leak cannot hurt
    if not _leaks():
        return False
    for obj in _SINGLETONS:
        # ob_refcnt is the first field of every object in a release build.
        ctypes.c_ssize_t.from_address(id(obj)).value += _PADDING
    _padded = True
    return True
