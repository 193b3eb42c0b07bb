"""Tasks of known nature for the study benchmark (importable: process workers find them by name)."""

from __future__ import annotations

import hashlib
import threading
import time

_BLOCK = bytes(2_000_000)


def sleep_10ms(item: int) -> int:
    time.sleep(0.01)
    return item


def python_3ms(item: int) -> int:
    total = 0
    for i in range(60_000):
        total += i * i
    return total


def hash_2mb(item: int) -> str:
    return hashlib.sha256(_BLOCK).hexdigest()


def square(item: int) -> int:
    return item * item


def mixed(item: int) -> int:
    time.sleep(0.002)
    total = 0
    for i in range(40_000):
        total += i
    return total


def sleep_1ms(item: int) -> int:
    time.sleep(0.001)
    return item


# -- the hard tasks: each limits a parallel run in its own way ---------------------------


def wait_then_python(item: int) -> int:
    """15 ms of waiting, then ~5 ms of pure Python: processes with more workers than cores win."""
    time.sleep(0.015)
    total = 0
    for i in range(200_000):
        total += i
    return total


_MATRIX = None


def matmul(item: int) -> float:
    """numpy matrix products: BLAS already runs on every core, sequentially."""
    import numpy as np

    global _MATRIX
    if _MATRIX is None:
        _MATRIX = np.random.default_rng(0).random((400, 400))
    return float((_MATRIX @ _MATRIX @ _MATRIX).sum())


_FOUR_MB = bytes(4_000_000)


def big_result(item: int) -> bytes:
    """4 MB results from little work: moving them to the parent is the cost."""
    return _FOUR_MB[item % 2:] + b"."


def heavy_tailed(item: int) -> int:
    """Pure Python whose time per item is Pareto-distributed (alpha 1.2, 1 ms up to 300 ms)."""
    u = (item * 2654435761 % 2**32) / 2**32  # a fixed pseudo-random number per item
    seconds = min(0.001 / (1 - u) ** (1 / 1.2), 0.3)
    end = time.thread_time() + seconds  # CPU seconds: the tail's shape holds on a busy machine
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


_IMAGE = None


def thumbnail(item: int) -> tuple[int, int]:
    """A Pillow thumbnail of a 1600x1200 image (Pillow releases the GIL while it resamples)."""
    from PIL import Image

    global _IMAGE
    if _IMAGE is None:
        _IMAGE = Image.effect_mandelbrot((1600, 1200), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    copy = _IMAGE.copy()
    copy.thumbnail((256, 256))
    return copy.size


_LOCK = threading.Lock()


def wait_then_lock(item: int, wait_s: float = 0.008, locked_s: float = 0.002) -> int:
    """Waits, then holds a lock every worker shares: contention of known size (locked / total = 0.2)."""
    time.sleep(wait_s)
    with _LOCK:
        time.sleep(locked_s)
    return item
