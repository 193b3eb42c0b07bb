"""``python -m poolside.host FD PARENT_PID``: a run host (the window's client starts it)."""

if __name__ == "__main__":
    import sys

    from .server import main

    sys.exit(main(sys.argv[1:]))
