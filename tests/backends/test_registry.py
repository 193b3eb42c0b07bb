"""The registry's entries place each backend without importing it: they must match the classes."""

from __future__ import annotations

import pytest

from poolside.backends import backend_names, entry, get_backend


@pytest.mark.parametrize("name", backend_names())
def test_an_entrys_kind_and_library_are_its_classs(name):
    try:
        cls = get_backend(name)
    except ValueError as exc:  # an optional package that is not installed
        pytest.skip(str(exc))
    e = entry(name)
    assert e is not None
    assert (e.kind, e.library) == (cls.kind, cls.library)
    assert cls.name == name
