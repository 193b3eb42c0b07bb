"""A plugin that holds memory while it runs: the study measures it per worker."""

import time
from pathlib import Path


def hold(path: Path, mb: int = 40, ms: float = 60.0) -> int:
    """Hold ``mb`` MB (every page touched) for ``ms`` milliseconds."""
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(ms / 1000)
    return len(block)
