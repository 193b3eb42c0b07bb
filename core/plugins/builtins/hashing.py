"""``sha256``: the hash of each file, read in chunks.

Mostly waiting on the disk, and hashlib releases the GIL while it hashes a
chunk, so threads do about as well as processes here without pickling costs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from .._files import open_input
from ..base import Range, plugin


@plugin(bound="mixed", columns=("sha256", "bytes"))
def sha256(path: Path, chunk_kb: Annotated[int, Range(4, 65536)] = 1024) -> dict:
    """SHA-256 hash of each file (I/O plus C code that releases the GIL).

    Args:
        chunk_kb: how much to read at a time, in KiB; bigger chunks mean fewer
            system calls, smaller ones less memory per worker.
    """
    digest = hashlib.sha256()
    buffer = bytearray(chunk_kb * 1024)
    view = memoryview(buffer)
    total = 0
    with open_input(path) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
            total += n
    return {"sha256": digest.hexdigest(), "bytes": total}
