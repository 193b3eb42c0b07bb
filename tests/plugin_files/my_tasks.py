"""A user's plugin file: marked functions are the plugins, the helper is not."""

import os
from pathlib import Path
from typing import Annotated, Literal

from poolside.plugins import Range, plugin


class Shouted:
    """A result of this file's own class: pickles back by the file's module name."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shouted) and other.text == self.text

    def __repr__(self) -> str:
        return f"Shouted({self.text!r})"


def first_line(path: Path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.readline().strip()


@plugin(name="shout", bound="cpu", accepts=("*.txt",), columns=("text", "pid"))
def shout(path: Path,
          marks: Annotated[int, Range(1, 5), "how many exclamation marks"] = 1,
          case: Literal["upper", "lower"] = "upper") -> dict:
    """Shout the first line of a text file."""
    line = first_line(path)
    line = line.upper() if case == "upper" else line.lower()
    return {"text": line + "!" * marks, "pid": os.getpid()}


@plugin
def wrap(path: Path) -> Shouted:
    """Wrap the first line in this file's own class."""
    return Shouted(first_line(path))


@plugin(description="Multiply a number.")
def double(item, factor: float = 2.0):
    """
    Args:
        factor: what to multiply by.
    """
    return item * factor


@plugin
def slow_on(path: Path, marker: str = "slow") -> str:
    """Sleep a long time for files whose names contain the marker (for Ctrl-C tests)."""
    if marker in path.name:
        import time

        time.sleep(120)
    return path.name
