"""``python -m poolside`` is the ``poolside`` command (its command line; no arguments print the help).

The import is inside the guard: a spawned worker re-imports the main module
under the name ``__mp_main__`` and must not run the command line again.
"""

if __name__ == "__main__":
    import sys

    from .cli import main

    sys.exit(main())
