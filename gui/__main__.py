"""``python -m poolside.gui [PATH...]`` opens the window, with those files, folders or job
(what the desktop entry runs, with the files a file manager hands it).

The import is inside the guard: a spawned worker re-imports the main module
under the name ``__mp_main__`` and must not pull Qt in with it.
"""

if __name__ == "__main__":
    import sys

    from .launcher import open_window

    sys.exit(open_window(sys.argv[1:]))
