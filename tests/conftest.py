"""Shared by every test: Qt renders offscreen (no display needed).

Set before anything imports Qt; kept minimal on purpose.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
