"""Poolside works installed, not only from its checkout.

The fast tests check, in a fresh interpreter started outside the checkout, that
the one import name ``poolside`` never drags a top-level ``core`` or ``gui``
along (two copies of a module would make ``Status is Status`` false).

The slow tests build the wheel and install it into a fresh virtual environment
*without* system site packages, so that neither the checkout nor its editable
install can hide a packaging mistake, then use it from another folder: the
CLI, the bundled samples, and the window offscreen with its stylesheet and
icon.  The environment is built once per test session (about 10 s here: the
wheel, a venv and the dependencies from the local wheel cache or the index);
``pytest -m "not slow"`` leaves these out of a quick local run; CI runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_NO_CHECKOUT_NAMES = r"""
import sys
import poolside
from poolside import Status, run
from poolside.records import Status as RecordsStatus
job = run(abs, range(-50, 50), backend="threads", workers=2)
assert sorted(o.value for o in job) == sorted(abs(i) for i in range(-50, 50))
import poolside.cli, poolside.gui, poolside.gui.main_window, poolside.resources
assert Status is RecordsStatus
clashes = sorted(m for m in sys.modules if m.split(".")[0] in ("core", "gui", "resources"))
print(json.dumps(clashes))
"""


def _python(python: str | Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "POOLSIDE_LOG")}
    return subprocess.run([str(python), "-c", "import json\n" + code], capture_output=True, text=True,
                          cwd=cwd, env={**environ, **env}, timeout=120)


def test_importing_poolside_never_imports_core_or_gui(tmp_path):
    done = _python(sys.executable, _NO_CHECKOUT_NAMES, tmp_path, QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_every_source_folder_is_a_listed_package():
    # package-dir maps folders to names, and the list of packages is explicit: a new
    # subpackage (core/cli/, say) that is not listed is missing from every install.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for name, folder in config["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *rel)))
    # A mapped folder inside another (none today) is found twice under two names; keep the listed.
    assert found - listed == set()


# -- the wheel in a fresh environment ------------------------------------------------------------

_IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "shots")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a clean copy of the checkout (no stale build/ to leak in)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_IGNORE)
    out = base / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("poolside-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv (no system site packages) with the wheel and its dependencies; its bin folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return bin_dir


@pytest.mark.slow
def test_the_wheel_holds_one_import_name_and_every_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"poolside"}
    sources = {f"poolside/{p.relative_to(ROOT / 'core').as_posix()}" for p in (ROOT / "core").rglob("*.py")}
    sources |= {f"poolside/gui/{p.relative_to(ROOT / 'gui').as_posix()}" for p in (ROOT / "gui").rglob("*.py")}
    assert sources - set(names) == set()
    for data in ("poolside/py.typed", "poolside/resources/styles/poolside.qss", "poolside/resources/icons/poolside.svg",
                 "poolside/resources/desktop/poolside.desktop", "poolside/resources/samples/texts/haiku.txt"):
        assert data in names


@pytest.mark.slow
def test_installed_cli_runs_the_bundled_samples_from_another_folder(installed, tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "POOLSIDE_LOG")}
    poolside = str(installed / "poolside")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([poolside, *args], capture_output=True, text=True, cwd=tmp_path,
                              env=environ, timeout=120)

    info = run("info")
    assert info.returncode == 0 and "logical cores" in info.stdout, info.stderr
    done = run("run", "--samples", "--plugin", "sha256", "--backend", "processes", "-o", "out.jsonl")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) >= 10 and {r["status"] for r in records} == {"ok"}
    assert all("site-packages" in r["item"] for r in records)  # the installed copy, not the checkout
    copied = run("samples", "mine")
    assert copied.returncode == 0 and len([p for p in (tmp_path / "mine").rglob("*") if p.is_file()]) == len(records)
    # `python -m poolside` is the command too, and the checkout's names are not importable there.
    names = _python(installed / "python", _NO_CHECKOUT_NAMES, tmp_path, QT_QPA_PLATFORM="offscreen")
    assert names.returncode == 0 and json.loads(names.stdout) == [], names.stderr


_WINDOW = r"""
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(["poolside"])
from poolside.gui.main_window import MainWindow
from poolside.gui.theme import app_icon
import poolside.gui.theme as theme
window = MainWindow(QSettings("settings.ini", QSettings.Format.IniFormat))
window.show()
app.processEvents()
print(json.dumps({"stylesheet": len(window.styleSheet()), "icon_null": window.windowIcon().isNull(),
                  "app_icon_null": app_icon().isNull(), "theme": theme.__file__}))
window.close()
"""


@pytest.mark.slow
def test_installed_window_loads_its_stylesheet_and_icon(installed, tmp_path):
    done = _python(installed / "python", _WINDOW, tmp_path, QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["stylesheet"] == len((ROOT / "resources" / "styles" / "poolside.qss").read_text(encoding="utf-8"))
    assert seen["icon_null"] is False and seen["app_icon_null"] is False
    assert "site-packages" in seen["theme"]
    assert "missing from the installed package" not in done.stderr
