"""The import contracts that keep the layers apart, read from the source with ``ast``.

Every import counts, wherever it is written: at module level, inside a function
(the lazy imports that keep start-up light) and under ``TYPE_CHECKING``.  A
relative import is resolved against the module it is written in.

- core/ never imports Qt or the window: the engine, the CLI and the run host
  run where there is no display.
- gui/ uses core's public names only: a ``_private`` module or name can change
  without notice.
- A workspace never imports a sibling workspace: each tab can change, or go,
  on its own; what two share lives in ``gui/widgets`` or ``gui/study``.
- core/backends/ never imports the engine: the engine drives backends through
  ``poolside.backends.protocol``, never the other way round.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import ROOT

#: Source folder -> the package it installs as (pyproject.toml's package-dir).
PACKAGES = {"core": "poolside", "gui": "poolside.gui"}


class Import(NamedTuple):
    """One imported module (a from-import of several names gives one per name)."""

    file: str  #: the source file, relative to the checkout
    line: int
    importer: str  #: the module that imports
    module: str  #: the module imported, resolved
    name: str | None  #: the name a from-import takes from ``module``
    text: str  #: the import statement as written

    def targets(self) -> tuple[str, ...]:
        """What this import may load: ``module``, and ``module.name`` for a name that may be a submodule."""
        return (self.module,) if self.name is None else (self.module, f"{self.module}.{self.name}")

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def module_of(path: Path, root: Path) -> tuple[str, bool]:
    """The dotted module a source file installs as, and whether it is a package's ``__init__``."""
    folder = path.relative_to(root).parts[0]
    parts = list(path.relative_to(root / folder).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts.pop()
    return ".".join([PACKAGES[folder], *parts]), package


def imports_in(path: Path, root: Path) -> Iterator[Import]:
    """Every import in ``path``, at any depth of the file."""
    importer, package = module_of(path, root)
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    file = path.relative_to(root).as_posix()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        text = " ".join(line.strip() for line in lines[node.lineno - 1: node.end_lineno])
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, importer, alias.name, None, text)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = importer.split(".") if package else importer.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                yield Import(file, node.lineno, importer, module, alias.name, text)


def all_imports(root: Path) -> list[Import]:
    return [imp for folder in PACKAGES for path in sorted((root / folder).rglob("*.py"))
            for imp in imports_in(path, root)]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def core_imports_qt_or_the_window(imp: Import, workspaces: frozenset[str]) -> bool:
    if _within(imp.importer, "poolside.gui") or not _within(imp.importer, "poolside"):
        return False
    return any(_within(t, p) for t in imp.targets() for p in ("PySide6", "shiboken6", "pyqtgraph", "poolside.gui"))


def gui_imports_a_private_name_of_core(imp: Import, workspaces: frozenset[str]) -> bool:
    if not _within(imp.importer, "poolside.gui") or not _within(imp.module, "poolside"):
        return False
    if _within(imp.module, "poolside.gui") or imp.targets()[-1] == "poolside.gui":
        return False
    parts = imp.module.split(".") + ([imp.name] if imp.name else [])
    return any(_private(p) for p in parts)


def workspace_imports_a_sibling(imp: Import, workspaces: frozenset[str]) -> bool:
    def workspace(module: str) -> str | None:
        parts = module.split(".")
        inside = len(parts) > 3 and parts[:3] == ["poolside", "gui", "workspaces"] and parts[3] in workspaces
        return parts[3] if inside else None

    own = workspace(imp.importer)
    return own is not None and any(workspace(t) not in (None, own) for t in imp.targets())


def backends_import_the_engine(imp: Import, workspaces: frozenset[str]) -> bool:
    return _within(imp.importer, "poolside.backends") and any(_within(t, "poolside.engine") for t in imp.targets())


#: Each contract: does this import break it?  (Given the workspaces: the packages in gui/workspaces/.)
CONTRACTS: dict[str, Callable[[Import, frozenset[str]], bool]] = {
    "core/ imports no Qt (PySide6, shiboken6, pyqtgraph) and no poolside.gui": core_imports_qt_or_the_window,
    "gui/ imports no _private module or name of core": gui_imports_a_private_name_of_core,
    "a workspace imports no sibling workspace": workspace_imports_a_sibling,
    "core/backends/ imports nothing from poolside.engine": backends_import_the_engine,
}


def breaches(root: Path) -> dict[str, list[str]]:
    """Each contract's breaking imports under ``root``, as ``file:line: import``."""
    found = all_imports(root)
    workspaces = frozenset(p.parent.name for p in (root / "gui" / "workspaces").glob("*/__init__.py"))
    return {name: [str(imp) for imp in found if broken(imp, workspaces)] for name, broken in CONTRACTS.items()}


# -- the code base keeps them -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def code_base() -> dict[str, list[str]]:
    return breaches(ROOT)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_code_base_keeps_the_contract(code_base, contract):
    broken = code_base[contract]
    assert not broken, f"{contract}, but:\n" + "\n".join(broken)


def test_the_walk_sees_the_code_base_whole():
    found = all_imports(ROOT)
    files = {imp.file for imp in found}
    assert "core/engine/job.py" in files and "gui/workspaces/run/workspace.py" in files
    # Imports inside functions and relative ones are resolved to modules, like any other.
    bridge = [imp for imp in found if imp.file == "gui/bridge.py"]
    assert any(imp.module == "poolside.plugins" and imp.name == "BoundTask" for imp in bridge)
    assert any(imp.importer == "poolside.engine.job" and imp.module == "poolside.backends" for imp in found)


# -- and each contract catches a breach ---------------------------------------------------------------

#: A tiny tree per case: the files written, the contract that must catch it, and the file:line it names.
BREACHES = {
    "core imports Qt at module level": (
        {"core/engine/job.py": "import os\nfrom PySide6.QtCore import QObject\n"},
        "core/ imports no Qt", "core/engine/job.py:2: from PySide6.QtCore import QObject"),
    "core imports pyqtgraph in a function": (
        {"core/usage.py": "def draw():\n    import pyqtgraph as pg\n    return pg\n"},
        "core/ imports no Qt", "core/usage.py:2: import pyqtgraph as pg"),
    "core imports the window under TYPE_CHECKING": (
        {"core/host/client.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from poolside.gui.bridge import RunBridge\n"},
        "core/ imports no Qt", "core/host/client.py:3: from poolside.gui.bridge import RunBridge"),
    "core imports the window by a relative import": (
        {"core/cli/main.py": "def window():\n    from .. import gui\n"},
        "core/ imports no Qt", "core/cli/main.py:2: from .. import gui"),
    "gui imports a private module of core": (
        {"gui/bridge.py": "def f():\n    from poolside.plugins._task import BoundTask\n"},
        "gui/ imports no _private", "gui/bridge.py:2: from poolside.plugins._task import BoundTask"),
    "gui imports a private name of core": (
        {"gui/workspaces/run/workspace.py": "\nfrom poolside.records import _STATUS_LOOK\n"},
        "gui/ imports no _private", "gui/workspaces/run/workspace.py:2: from poolside.records import _STATUS_LOOK"),
    "gui imports a private module of core by a relative import": (
        {"gui/format.py": "from .. import _lazy\n"},
        "gui/ imports no _private", "gui/format.py:1: from .. import _lazy"),
    "a workspace imports a sibling": (
        {"gui/workspaces/compare/form.py": "from poolside.gui.workspaces.run.files_model import FilesModel\n"},
        "a workspace imports no sibling",
        "gui/workspaces/compare/form.py:1: from poolside.gui.workspaces.run.files_model import FilesModel"),
    "a workspace imports a sibling by a relative import": (
        {"gui/workspaces/history/runs.py": "import os\n\n\ndef f():\n    from ..run import scanner\n"},
        "a workspace imports no sibling", "gui/workspaces/history/runs.py:5: from ..run import scanner"),
    "a workspace imports a sibling package by name": (
        {"gui/workspaces/run/__init__.py": "from .. import history\n"},
        "a workspace imports no sibling", "gui/workspaces/run/__init__.py:1: from .. import history"),
    "a backend imports the engine": (
        {"core/backends/threads.py": "from ..engine.ledger import Ledger\n"},
        "core/backends/ imports nothing", "core/backends/threads.py:1: from ..engine.ledger import Ledger"),
    "a backend imports the engine package's name": (
        {"core/backends/_worker.py": "from .. import engine\n"},
        "core/backends/ imports nothing", "core/backends/_worker.py:1: from .. import engine"),
}

#: Imports that look close to a breach and are allowed.
ALLOWED = {
    "core/engine/job.py": "from ..backends import runs_in_caller\nfrom .. import _lazy\n",
    "core/backends/base.py": "from .protocol import Chunk\nfrom ._calls import sync_task\nimport engineering\n",
    "gui/bridge.py": "from poolside.plugins import BoundTask\nfrom poolside import __version__\n"
                     "from ._private import x\n",
    "gui/workspaces/run/workspace.py": "from ..base import Workspace\nfrom ...widgets.timeline import TimelinePlot\n"
                                       "from . import scanner\n",
    "gui/workspaces/base.py": "from .run import RunWorkspace\nfrom .compare import CompareWorkspace\n",
    "gui/app.py": "from PySide6.QtWidgets import QApplication\nimport pyqtgraph\n",
    **{f"gui/workspaces/{w}/__init__.py": "" for w in ("run", "compare", "history")},
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in PACKAGES:
        (root / folder).mkdir(exist_ok=True)


@pytest.mark.parametrize("case", BREACHES)
def test_each_contract_catches_a_breach_and_names_its_file_line_and_import(tmp_path, case):
    files, contract, expected = BREACHES[case]
    write_tree(tmp_path, {**ALLOWED, **files})
    found = breaches(tmp_path)
    [name] = [n for n in CONTRACTS if n.startswith(contract)]
    assert found[name] == [expected]
    assert [b for other, bs in found.items() if other != name for b in bs] == []


def test_imports_that_keep_the_contracts_break_none(tmp_path):
    write_tree(tmp_path, ALLOWED)
    assert breaches(tmp_path) == {name: [] for name in CONTRACTS}
