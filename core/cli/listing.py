"""``poolside plugins`` and ``poolside info``: what there is to run, and on what."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..inputs import printable
from .common import EXIT_FAILED, EXIT_OK


def add_parsers(sub: Any) -> None:

    plugins = sub.add_parser("plugins", help="list the plugins and their parameters",
                             description="List the built-in and installed plugins, and "
                                         "those in the given Python files.")
    plugins.add_argument("files", nargs="*", metavar="FILE.py", help="also list these files' plugins")
    plugins.set_defaults(handler=cmd_plugins)

    info = sub.add_parser("info", help="show cores, CPU and default workers per backend")
    info.set_defaults(handler=cmd_info)


def cmd_plugins(ns: argparse.Namespace) -> int:
    from ..plugins import PluginError, discover, load_plugin_file

    plugins, errors = discover()
    for file in ns.files:
        try:
            found, errs = load_plugin_file(file)
        except PluginError as e:
            found, errs = [], [e]
        plugins += found
        errors += errs
    out = sys.stdout
    for p in plugins:
        accepts = ", ".join(p.accepts) if p.accepts else "any file"
        out.write(f"{p.name}  [{p.bound}-bound; {accepts}]\n")
        out.write(f"    {p.description}\n")
        if p.source != "built-in":
            out.write(f"    from {printable(p.source)}\n")
        for param in p.params:
            out.write(f"    --param {param.name}=...  {param.describe()}\n")
            if param.help:
                out.write(f"        {param.help}\n")
        out.write("\n")
    for error in errors:
        out.write(f"broken: {printable(str(error))}\n")
    out.flush()
    return EXIT_FAILED if errors and ns.files else EXIT_OK


def cmd_info(ns: argparse.Namespace) -> int:
    from .. import backend_info, default_workers, system_info
    from ..words.units import human_bytes

    info = system_info()
    out = sys.stdout
    out.write(f"CPU             {info.cpu_model}\n")
    out.write(f"logical cores   {info.logical_cores}\n")
    out.write(f"physical cores  {info.physical_cores}\n")
    out.write(f"usable cores    {info.usable_cores}\n")
    out.write(f"memory          {human_bytes(info.memory_bytes)}\n")
    out.write(f"platform        {info.platform}\n")
    out.write(f"python          {sys.version.split()[0]}\n\n")
    out.write("backends: their kind, default workers for cpu / io / mixed-bound plugins, "
              "and when each wins\n")
    infos = backend_info()
    width = max((len(b.name) for b in infos), default=10) + 2
    for b in infos:
        if b.available:
            counts = " / ".join(str(default_workers(b.name, bound)) for bound in ("cpu", "io", "mixed"))
            methods = f" (--method {'|'.join(b.methods)})" if b.methods else ""
            out.write(f"  {b.name:<{width}}{b.kind:<11}{counts:<14}{b.wins}{methods}\n")
        else:
            out.write(f"  {b.name:<{width}}{'':<11}{'-':<14}not available: {b.reason}\n")
    out.flush()
    return EXIT_OK

