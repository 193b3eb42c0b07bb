"""``poolside --install-desktop``: a menu entry and an icon for the desktop (Linux, BSD).

Writes, in the user's XDG data folder (``$XDG_DATA_HOME``, else ``~/.local/share``)::

    applications/poolside.desktop                 from resources/desktop/poolside.desktop
    icons/hicolor/scalable/apps/poolside.svg      from resources/icons/poolside.svg

The entry starts the window with the interpreter Poolside is installed in
(``python -m poolside.gui %F``), so it works for a venv, ``pipx`` or a user
install alike, whether or not the ``poolside`` script is on the menu's PATH.
``%F`` hands it the files and folders a file manager opens with it; its
``MimeType`` (saved jobs, ``application/toml``, and folders) puts Poolside
under "Open with" for them, without making it their default program.
The window sets its desktop file name to ``poolside``, so the desktop matches
the running window to this entry and its icon.

No Qt here, and no platformdirs: the XDG rule is two lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from poolside.resources import resource

DESKTOP_FILE = "poolside.desktop"
ICON_FILE = "poolside.svg"


def data_home(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_DATA_HOME`` when it is an absolute path (as the spec says), else ``~/.local/share``."""
    value = environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def exec_line(python: str = sys.executable) -> str:
    """The entry's ``Exec=`` command: this interpreter opening the window, quoted as the spec asks
    (the template adds ``%F``, the files to open)."""
    return " ".join(_quote(arg) for arg in (python, "-m", "poolside.gui"))


def _quote(arg: str) -> str:
    if arg and not any(c in arg for c in _RESERVED):
        return arg
    # Inside double quotes, ", `, $ and \ take a backslash; then the value's own
    # string escaping doubles every backslash again.
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\")


_RESERVED = frozenset(' \t\n"\'\\><~|&;$*?#()`')


def install(data_dir: Path | None = None, python: str = sys.executable) -> list[Path]:
    """Write the entry and the icon; return the files written."""
    base = data_home() if data_dir is None else data_dir
    entry = base / "applications" / DESKTOP_FILE
    icon = base / "icons" / "hicolor" / "scalable" / "apps" / ICON_FILE
    template = resource("desktop", DESKTOP_FILE).read_text(encoding="utf-8")
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(template.replace("@EXEC@", exec_line(python)), encoding="utf-8")
    icon.write_bytes(resource("icons", ICON_FILE).read_bytes())
    return [entry, icon]


def main() -> int:
    """The command: install, say where, and how to undo it."""
    if sys.platform == "darwin" or os.name == "nt":
        print("poolside: --install-desktop writes a freedesktop.org menu entry (Linux, BSD); "
              "on this system start the window with 'poolside'", file=sys.stderr)
        return 2
    try:
        written = install()
    except OSError as exc:
        print(f"poolside: cannot install the desktop entry: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print("Poolside is in the desktop's application menu (log out and in if it does not show yet); "
          "to remove it, delete these two files.")
    return 0
