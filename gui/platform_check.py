"""Before Qt starts on Linux: are the system libraries of its X11 (xcb) plugin there?

When one is missing, Qt prints "could not load the Qt platform plugin xcb" and
aborts inside the ``QApplication`` constructor (exit 134), where Python cannot
catch anything.  So the launcher asks first: it loads each library Qt's xcb
plugin links against with :mod:`ctypes` (what the dynamic loader would do a
moment later) and, for those that fail, names the packages that provide them.

No Qt here: this runs before Qt is imported.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

#: What libqxcb.so (Qt 6) links against that a minimal desktop may lack, with
#: the package that ships it: (shared object, Debian/Ubuntu, Fedora).  libxcb
#: itself, X11, fontconfig and freetype are listed too: a container or a
#: server image may have none of them.
XCB_LIBRARIES: tuple[tuple[str, str, str], ...] = (
    ("libxcb.so.1", "libxcb1", "libxcb"),
    ("libX11.so.6", "libx11-6", "libX11"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    ("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    ("libfreetype.so.6", "libfreetype6", "freetype"),
    ("libEGL.so.1", "libegl1", "libglvnd-egl"),
    ("libGL.so.1", "libgl1", "libglvnd-glx"),
)


def platform_is_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will use its X11 plugin: as Qt 6 picks it on Linux."""
    if not platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").strip()
    if asked:  # "xcb", "wayland;xcb", "offscreen", "xcb:option=...": the first one is tried first
        return asked.split(";")[0].split(":")[0].strip() == "xcb"
    wayland = environ.get("XDG_SESSION_TYPE") == "wayland" and bool(environ.get("WAYLAND_DISPLAY"))
    return not wayland and bool(environ.get("DISPLAY"))


def _loads(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_xcb_libraries(loads: Callable[[str], bool] | None = None) -> list[tuple[str, str, str]]:
    """The entries of :data:`XCB_LIBRARIES` that the dynamic loader cannot load."""
    loads = loads or _loads
    return [entry for entry in XCB_LIBRARIES if not loads(entry[0])]


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def install_hint(missing: list[tuple[str, str, str]]) -> str:
    """One message: what is missing and the command that installs it, per distribution."""
    libs = ", ".join(lib for lib, _, _ in missing)
    apt = " ".join(_unique([deb for _, deb, _ in missing]))
    dnf = " ".join(_unique([rpm for _, _, rpm in missing]))
    return (
        f"cannot open the window: Qt's X11 (xcb) platform plugin needs system libraries "
        f"that are missing: {libs}.\n"
        f"Install them, then start Poolside again:\n"
        f"  Debian, Ubuntu:  sudo apt install {apt}\n"
        f"  Fedora:          sudo dnf install {dnf}"
    )
