"""No @plugin anywhere: every public function defined here is a plugin."""

from os.path import basename  # imported, not defined here: not a plugin


def name_length(path, extra: int = 0):
    """Length of the file's name, plus extra."""
    return len(basename(path)) + extra


def reverse_name(path):
    """The file's name backwards."""
    return basename(path)[::-1]


def _private_helper(path):
    return path
