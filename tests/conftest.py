"""Shared by every test: Qt renders offscreen (no display needed).

Set before anything imports Qt; kept minimal on purpose.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fork Poolside's zygote now, while pytest still runs one thread, as a program
# that starts threads later (the window) would: process runs in every test then
# fork their workers from it, never from this (soon threaded) process.
from poolside.backends.processes import prestart

prestart()
