"""Tasks whose results pickle in the worker but cannot be unpickled where they are read."""

from __future__ import annotations


def _refuse() -> None:
    raise RuntimeError("this result refuses to be rebuilt")


class Unrebuildable:
    """Pickles fine; rebuilding it raises: ``__reduce__`` names a callable that raises."""

    def __reduce__(self):
        return (_refuse, ())


def unreadable_on_odd(x: int):
    """``x * x``, but an odd item's result cannot be read back."""
    return Unrebuildable() if x % 2 else x * x


class RefusesState:
    """Pickles fine; restoring its state raises."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]

    def __setstate__(self, state):
        raise ValueError("this state cannot be restored")


def nested_unreadable(x: int):
    """A dict that holds, two levels down, an object that cannot be rebuilt, for items 2 and 5."""
    if x == 2:
        return {"ok": [1, 2], "deep": [{"inner": Unrebuildable()}]}
    if x == 5:
        return {"state": RefusesState()}
    return {"x": x}
