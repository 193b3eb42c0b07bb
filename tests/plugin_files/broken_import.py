"""A plugin file whose import fails."""

import poolside_no_such_module_for_tests  # noqa: F401


def task(path):
    return path
