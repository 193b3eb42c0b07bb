"""The xcb check before Qt: which platform Qt will use, and the libraries it needs."""

from __future__ import annotations

import sys

import pytest

from poolside.gui import platform_check


@pytest.mark.parametrize(("environ", "xcb"), [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:dpi=96"}, True),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, False),
    ({}, False),
])
def test_the_platform_is_xcb_as_qt_would_pick_it(environ, xcb):
    assert platform_check.platform_is_xcb(environ, "linux") is xcb
    assert platform_check.platform_is_xcb(environ, "darwin") is False


def test_missing_libraries_are_named_with_both_install_commands():
    missing = platform_check.missing_xcb_libraries(
        lambda name: name not in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert [lib for lib, _, _ in missing] == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    hint = platform_check.install_hint(missing)
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in hint
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in hint
    assert "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms" in hint


def test_the_check_loads_real_libraries():
    # libc is on every Linux machine; a made-up name never loads.
    if not sys.platform.startswith("linux"):
        pytest.skip("shared objects by soname are a Linux thing")
    assert platform_check._loads("libc.so.6")
    assert not platform_check._loads("libpoolside-no-such-library.so.0")
