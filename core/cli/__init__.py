"""The ``poolside`` command line: one module per command, one place for the terminal.

    main.py      parse argv, dispatch, turn errors into one line and an exit status
    common.py    exit codes, UsageError, argument types
    console.py   every terminal write and the progress bar (formatting for people lives here)
    run.py       ``poolside run``
    listing.py   ``poolside plugins`` and ``poolside info``

Records written to files go through :mod:`poolside.serialize`, the one serialiser
that the window and the history use too.
"""

from .main import command_names, main

__all__ = ["command_names", "main"]
