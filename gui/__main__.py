"""``python -m poolside.gui`` opens the window (what the desktop entry runs).

The import is inside the guard: a spawned worker re-imports the main module
under the name ``__mp_main__`` and must not pull Qt in with it.
"""

if __name__ == "__main__":
    import sys

    from .launcher import open_window

    sys.exit(open_window())
