"""``python -m poolside.host FD PARENT_PID``: a run host; ``--study FD PARENT_PID``: a study host.

The window's clients start them.
"""

if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--study"]:
        from .study_server import main
    else:
        from .server import main

    sys.exit(main(sys.argv[2:] if sys.argv[1:2] == ["--study"] else sys.argv[1:]))
