"""The backend registry: its entries place each backend without importing it (they must match the
classes), and what a backend's kind says about where its items run."""

from __future__ import annotations

import pytest

from poolside.backends import backend_names, entry, get_backend, runs_in_caller


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


#: The backends whose items run on threads of the process that runs them.
THREAD_FAMILY = ("sequential", "threads", "thread-executor", "mp-thread-pool", "thread-per-item", "asyncio")


def available(name: str) -> bool:
    try:
        get_backend(name)
    except ValueError:
        return False
    return True


def test_the_thread_family_runs_in_the_callers_threads_and_no_other_backend_does():
    names = [n for n in backend_names() if available(n)]
    assert set(THREAD_FAMILY) <= set(names)
    assert [n for n in names if runs_in_caller(n)] == [n for n in backend_names() if n in THREAD_FAMILY]
    assert not runs_in_caller("processes") and not runs_in_caller("mp-pool")


def test_the_predicate_follows_the_kind_of_a_name_a_class_or_an_instance_alike():
    for name in (n for n in backend_names() if available(n)):
        cls = get_backend(name)
        assert runs_in_caller(cls) is runs_in_caller(name) is (cls.kind in ("threads", "async"))
    assert runs_in_caller(get_backend("threads")(abs, 1, timeout=None, origin=0.0))  # never started


def test_an_unknown_name_is_refused_with_the_registrys_words():
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        runs_in_caller("nope")
