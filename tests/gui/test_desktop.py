"""The desktop entry: where it goes, and how it starts the window."""

from __future__ import annotations

import sys

import pytest

from poolside.gui import desktop
from poolside.gui.launcher import main as launcher
from poolside.resources import resource


def test_install_desktop_writes_the_entry_and_icon_in_the_xdg_data_folder(monkeypatch, tmp_path, capsys):
    if sys.platform == "darwin" or sys.platform == "win32":
        pytest.skip("freedesktop.org entries are for Linux and BSD")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert launcher(["--install-desktop"]) == 0
    entry = tmp_path / "applications" / "poolside.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "poolside.svg"
    text = entry.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert f"\nExec={sys.executable} -m poolside.gui %F\n" in text
    assert "\nMimeType=application/toml;inode/directory;\n" in text
    assert "\nIcon=poolside\n" in text and "\nName=Poolside\n" in text
    assert icon.read_bytes() == resource("icons", "poolside.svg").read_bytes()
    assert str(entry) in capsys.readouterr().out


def test_the_xdg_data_folder_follows_the_spec(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home({"XDG_DATA_HOME": "/x/share"}) == desktop.Path("/x/share")
    assert desktop.data_home({"XDG_DATA_HOME": "relative"}) == tmp_path / ".local" / "share"
    assert desktop.data_home({}) == tmp_path / ".local" / "share"


def test_exec_line_quotes_an_interpreter_path_with_spaces():
    assert desktop.exec_line("/opt/my apps/bin/python") == '"/opt/my apps/bin/python" -m poolside.gui'
    assert desktop.exec_line('/a/$b') == '"/a/\\\\$b" -m poolside.gui'
