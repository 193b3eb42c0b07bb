"""``wordcount``: lines, words and characters of text files, like ``wc``.

All Python: the decoding and splitting hold the GIL, so threads take turns
and only processes use more than one core.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

from .._files import open_input
from ..base import plugin

TEXT_PATTERNS = ("*.txt", "*.md", "*.rst", "*.csv", "*.tsv", "*.json", "*.jsonl", "*.log",
                 "*.py", "*.html", "*.xml", "*.yaml", "*.yml", "*.ini", "*.cfg", "*.toml")
# Read in bounded chunks, not lines: a 2 GB file with no newline is still text.
_CHUNK_CHARS = 1 << 20


@plugin(bound="cpu", accepts=TEXT_PATTERNS, columns=("lines", "words", "chars", "bytes"))
def wordcount(
    path: Path,
    encoding: Literal["utf-8", "utf-16", "latin-1", "cp1252", "ascii"] = "utf-8",
) -> dict:
    """Lines, words and characters of text files, in pure Python (CPU under the GIL).

    Args:
        encoding: how the files' bytes become text; bytes that do not decode
            count as one replacement character each.
    """
    lines = words = chars = 0
    ended_in_word = False
    with open_input(path) as raw:
        # newline="" keeps "\r\n" as two characters, as wc counts them.
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        while chunk := text.read(_CHUNK_CHARS):
            lines += chunk.count("\n")
            chars += len(chunk)
            words += len(chunk.split())
            # A word cut in two by the chunk boundary was counted twice.
            if ended_in_word and not chunk[0].isspace():
                words -= 1
            ended_in_word = not chunk[-1].isspace()
        size = raw.tell()
    return {"lines": lines, "words": words, "chars": chars, "bytes": size}
