"""Pure-Python and hashlib work for the observed test programs (each ~1 s of CPU in all)."""

import hashlib


def spin(n: int = 300_000) -> int:
    """Pure Python: holds the GIL (~20 ms)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


DATA = b"x" * (1 << 20)


def digest(rounds: int = 30) -> str:
    """hashlib on 1 MiB buffers: releases the GIL while it hashes (~20 ms)."""
    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(DATA)
    return h.hexdigest()


def tiny(x: int) -> int:
    return x + 1
