"""``python -m gui`` opens the window.

The import is inside the guard: a spawned worker re-imports the main module
under the name ``__mp_main__`` and must not pull Qt in with it.
"""

if __name__ == "__main__":
    import sys

    from .app import main

    sys.exit(main())
