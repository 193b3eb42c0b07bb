"""Poolside's window: a PySide6 front end over the headless engine in ``core``.

Nothing here is imported by ``core``, and this package's ``__init__`` imports
no Qt, so ``python -m gui`` stays cheap for process workers that re-import the
main module (spawn and forkserver do).
"""
