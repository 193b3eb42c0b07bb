"""The ``poolside`` command: the window with no arguments or with paths, the CLI otherwise.

    poolside                      the window
    poolside PATH... | JOB.toml   the window, with those files and folders, or that job
    poolside --install-desktop    the desktop's menu entry (poolside.gui.desktop)
    poolside COMMAND ...          the CLI (poolside.cli): run, compare, history, plugins, info, samples

It lives in ``gui/`` so that the dependency runs one way: the window depends
on the engine, and ``core/`` (its CLI included) never imports the window.  It
imports nothing from Qt until the window is asked for: the CLI stays headless,
and a worker process that re-imports this entry point loads no Qt.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

PROG = "poolside"
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--install-desktop"]:
        from .desktop import main as install_desktop

        return install_desktop()
    if opens_window(args):
        return open_window(args)
    if _meant_as_paths(args):
        missing = ", ".join(repr(a) for a in args if not os.path.lexists(os.path.expanduser(a)))
        print(f"{PROG}: error: no such file or folder: {missing} (to open in the window); "
              f"the commands are: {', '.join(commands())}", file=sys.stderr)
        return EXIT_USAGE
    from poolside.cli import main as cli_main

    return cli_main(None if argv is None else args)  # None: the command itself (see cli.main)


def opens_window(args: Sequence[str]) -> bool:
    """Whether ``args`` ask for the window: none, or paths (``poolside ~/photos``, ``poolside job.toml``).

    Arguments are paths when the first is neither an option nor a command and one of them exists:
    a mistyped command (``poolside rnu``) still gets the CLI's usage error, not an empty window.
    """
    if not args:
        return True
    if args[0].startswith("-") or args[0] in commands():
        return False
    return any(os.path.lexists(os.path.expanduser(a)) for a in args)


def _meant_as_paths(args: Sequence[str]) -> bool:
    """Arguments that read as paths (``~/photos``, ``job.toml``), though none exists: not a mistyped command."""
    first = args[0]
    return (not first.startswith("-") and first not in commands()
            and any(c in first for c in (os.sep, ".", "~")))


def commands() -> tuple[str, ...]:
    """The CLI's commands (read from its parser: one list, kept by poolside.cli)."""
    from poolside.cli import command_names

    return command_names()


def open_window(paths: Sequence[str] = ()) -> int:
    hint = f"Run tasks without it: '{PROG} run PATHS --plugin NAME' (see '{PROG} --help')."
    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    if headless:
        print(f"{PROG}: cannot open the window: no display (DISPLAY is not set). {hint}",
              file=sys.stderr)
        return EXIT_USAGE
    from .platform_check import install_hint, missing_xcb_libraries, platform_is_xcb

    # Qt aborts inside QApplication() when its X11 plugin cannot load: ask first.
    if platform_is_xcb() and (missing := missing_xcb_libraries()):
        print(f"{PROG}: {install_hint(missing)}\n{hint}", file=sys.stderr)
        return EXIT_USAGE

    # No zygote here: the window runs no task in its own process.  Runs go to the
    # run host (poolside.host), which forks its own zygote before it starts a thread.
    try:
        from .app import main as window_main
    except ImportError as e:
        print(f"{PROG}: the window is not available ({e}). {hint}", file=sys.stderr)
        return EXIT_USAGE
    return int(window_main([], exit_process=True, paths=paths) or 0)
