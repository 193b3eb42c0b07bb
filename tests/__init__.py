"""Poolside's tests, one folder a package: engine, backends, host, study, history, cli, plugins, gui/<workspace>."""

from pathlib import Path

#: The checkout (tests start child Pythons there, with it on PYTHONPATH).
ROOT = Path(__file__).resolve().parent.parent
#: Plugin files the tests load by path.
PLUGIN_FILES = Path(__file__).resolve().parent / "plugin_files"
