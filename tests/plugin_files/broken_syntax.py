"""A plugin file with a syntax error."""


def oops(path:
    return path
