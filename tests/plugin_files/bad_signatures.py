"""One good plugin among bad ones: each bad one is reported, the good one loads."""

from typing import Annotated

from poolside.plugins import Range, plugin


@plugin
def good(path, n: Annotated[int, Range(1, 3)] = 2):
    """The one that works."""
    return n


@plugin
def no_item():
    """No parameter for the item."""


@plugin
def star_args(path, *rest):
    """*args cannot be a setting."""


@plugin
def list_setting(path, names: list = []):  # noqa: B006
    """A list is not a setting type."""


@plugin
def default_out_of_range(path, n: Annotated[int, Range(1, 3)] = 10):
    """The default breaks its own range."""


@plugin(bound="gpu")
def bad_bound(path):
    """No such bound."""


@plugin
def unresolvable(path, x: "NoSuchType" = 1):  # noqa: F821
    """A hint that names nothing."""
