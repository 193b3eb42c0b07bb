"""A task module that starts a thread when it is imported (as numpy's BLAS pool or a logging thread does)."""

from __future__ import annotations

import threading

_started = threading.Event()
threading.Thread(target=_started.wait, name="started at import", daemon=True).start()


def double(x: int) -> int:
    return 2 * x
