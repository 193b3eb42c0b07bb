"""Tasks of known nature for the study benchmark (importable: process workers find them by name)."""

from __future__ import annotations

import hashlib
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
