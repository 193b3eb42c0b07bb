"""``poolside samples DEST``: copy the bundled sample files out, to try the plugins on.

The samples ship inside the package (``poolside.resources``), so they are there
wherever Poolside is installed; ``poolside run --samples`` runs over them in
place, and this copies them where a plugin may also write next to them.
"""

from __future__ import annotations

import argparse
import shutil
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ..inputs import printable
from .common import EXIT_OK, UsageError


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser(
        "samples", help="copy the bundled sample files to a folder",
        description="Copy the sample files Poolside ships with (images, texts, a list of URLs) "
                    "into DEST, a folder that must not exist yet or be empty.",
        epilog="Example: poolside samples my-samples && poolside run my-samples -r --plugin thumbnail")
    cmd.add_argument("dest", metavar="DEST", help="the folder to create")
    cmd.set_defaults(handler=cmd_samples)


def cmd_samples(ns: argparse.Namespace) -> int:
    from ..resources import resource

    dest = Path(ns.dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{printable(ns.dest)} exists and is not an empty folder")
    count = copy_tree(resource("samples"), dest)
    print(f"copied {count} sample files to {printable(str(dest))}")
    return EXIT_OK


def copy_tree(source: Traversable, dest: Path) -> int:
    """Copy a package-data folder (a real folder or inside a zip); return the files copied."""
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for node in source.iterdir():
        if node.name == "__pycache__":
            continue
        if node.is_dir():
            count += copy_tree(node, dest / node.name)
        else:
            with node.open("rb") as src, open(dest / node.name, "wb") as out:
                shutil.copyfileobj(src, out)
            count += 1
    return count
