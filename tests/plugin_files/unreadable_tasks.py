"""A plugin whose results pickle where it runs but cannot be rebuilt where they are read."""

from poolside.plugins import plugin


class Unrebuildable:
    """Pickles as ``int("not a number")``: any process can import ``int``, none can rebuild it."""

    def __reduce__(self):
        return (int, ("not a number",))


@plugin
def refuse_odd(item) -> object:
    """An object that cannot be unpickled for items whose names start with "odd"; the name otherwise."""
    return Unrebuildable() if str(item).startswith("odd") else str(item)
