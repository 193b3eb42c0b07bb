"""Reading back a message whose results cannot all be rebuilt here.

A result pickles in the worker, yet unpickling it in the reader may raise: its
``__reduce__`` names a callable that raises, its ``__setstate__`` raises, or its
class does not import here.  ``pickle.loads`` then loses the whole message,
every other result in it with it.  When that happens, and only then (it is
the Python unpickler, several times slower than the C one)::

    data --loads_lenient--> the message, each object that could not be rebuilt
                            replaced by an Unrebuilt that says why
         --unrebuilt_in(value)--> that item's Unrebuilt, or None: its value stands

so the reader ends exactly the items whose results it cannot read, and reads
the rest.  A worker process never imports this module.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from ..records import ErrorInfo, describe_error


class Unrebuilt:
    """Stands in for an object that could not be rebuilt; ``reason`` says why, in words.

    It takes whatever the unpickler does to the object it replaces (state,
    list and dict items) and ignores it.
    """

    reason = "it could not be rebuilt"
    missing = ""  # the class that does not import here, when that is the cause

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass

    def add(self, value: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<unreadable result: {self.reason}>"


def _failed(exc: BaseException) -> Unrebuilt:
    stand_in = Unrebuilt()
    stand_in.reason = f"{type(exc).__name__}: {describe_error(exc)}"
    return stand_in


# The Python unpickler: unlike the C one, each of its steps can be overridden.
_PyUnpickler: Any = pickle._Unpickler


class _Lenient(_PyUnpickler):
    dispatch = dict(_PyUnpickler.dispatch)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except Exception as exc:  # a class that does not import here: objects of it stand in
            return type(name, (Unrebuilt,), {
                "missing": f"{module}.{name}",
                "reason": f"its class {module}.{name} does not import here "
                          f"({type(exc).__name__}: {describe_error(exc)})"})

    def load_reduce(self) -> None:
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        try:
            stack[-1] = func(*args)
        except Exception as exc:
            stack[-1] = _failed(exc)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        try:
            obj = cls.__new__(cls, *args)
        except Exception as exc:
            obj = _failed(exc)
        self.append(obj)
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        try:
            obj = cls.__new__(cls, *args, **kwargs)
        except Exception as exc:
            obj = _failed(exc)
        self.append(obj)
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_build(self) -> None:
        depth = len(self.stack)  # [..., object, state]: BUILD takes the state, keeps the object
        try:
            _PyUnpickler.load_build(self)
        except Exception as exc:
            del self.stack[depth - 2:]
            self.stack.append(_failed(exc))
    dispatch[pickle.BUILD[0]] = load_build

    def _instantiate(self, klass: Any, args: Any) -> None:
        try:
            _PyUnpickler._instantiate(self, klass, args)
        except Exception as exc:
            self.append(_failed(exc))


def loads_lenient(data: bytes) -> Any:
    """``pickle.loads``, with every object that cannot be rebuilt here an :class:`Unrebuilt`."""
    return _Lenient(io.BytesIO(data)).load()


class _Found(Exception):
    def __init__(self, stand_in: Unrebuilt) -> None:
        self.stand_in = stand_in


class _Seeker(pickle.Pickler):
    """Walks a value the way pickle does, every object it holds included, to find a stand-in."""

    def persistent_id(self, obj: Any) -> None:
        if isinstance(obj, Unrebuilt):
            raise _Found(obj)
        return None


class _Sink:
    def write(self, data: Any) -> int:
        return len(data)


def unrebuilt_in(value: Any) -> Unrebuilt | None:
    """The first :class:`Unrebuilt` anywhere in ``value``, or ``None``.

    Pickling the value again reaches every object the unpickler made, however
    deep; a value that no longer pickles cannot be told clean, so it counts as
    unreadable too.
    """
    if isinstance(value, Unrebuilt):
        return value
    try:
        _Seeker(_Sink(), pickle.HIGHEST_PROTOCOL).dump(value)
    except _Found as found:
        return found.stand_in
    except Exception as exc:
        return _failed(exc)
    return None


def unreadable_error(reason: str) -> ErrorInfo:
    """What an item whose result could not be unpickled ends with."""
    return ErrorInfo("UnpicklingError", f"its result could not be read back: {reason}")


def repair_done(data: bytes, exc: BaseException) -> Any:
    """The ``Done`` in ``data`` that ``pickle.loads`` failed on with ``exc``, its unreadable items failed.

    Each item whose result holds an object that could not be rebuilt ends
    ``failed``; the others keep their values.  If no single item can be blamed,
    every item of the batch fails with ``exc``: none is ever dropped.  Any other
    message that fails to load is the backend's own and raises ``exc``.
    """
    from .protocol import Done

    try:
        message = loads_lenient(data)
    except Exception:
        raise exc from None
    if type(message) is not Done:
        raise exc
    return _repaired_done(message, exc)


def _repaired_done(message: Any, exc: BaseException) -> Any:
    values = list(message.values)
    errors = list(message.errors or ())
    failed = {i for i, _ in errors}
    for i, value in enumerate(values):
        if i in failed:
            continue
        stand_in = unrebuilt_in(value)
        if stand_in is not None:
            values[i] = None
            errors.append((i, unreadable_error(stand_in.reason)))
            failed.add(i)
    if len(failed) == len(message.errors or ()):
        reason = f"{type(exc).__name__}: {describe_error(exc)}"
        for i in range(len(values)):
            if i not in failed:
                values[i] = None
                errors.append((i, unreadable_error(reason)))
    errors.sort(key=lambda e: e[0])
    return message._replace(values=values, errors=errors or None)


def repair_result(data: bytes, exc: BaseException) -> tuple:
    """The ``call_item`` result in ``data`` that ``pickle.loads`` failed on, its value replaced
    by the error that says why it cannot be read."""
    try:
        result = loads_lenient(data)
    except Exception:
        raise exc from None
    return _repaired_result(result, exc)


def _repaired_result(result: Any, exc: BaseException) -> tuple:
    from ._calls import ERROR, VALUE

    if not (isinstance(result, tuple) and len(result) > ERROR):
        raise exc
    stand_in = unrebuilt_in(result[VALUE])
    reason = stand_in.reason if stand_in is not None else f"{type(exc).__name__}: {describe_error(exc)}"
    return (*result[:VALUE], None, result[ERROR] or unreadable_error(reason), *result[ERROR + 1:])


def repair_sealed(data: bytes, exc: BaseException) -> Any:
    """A sealed library result (``_sealed``) that ``pickle.loads`` failed on: a ``Done``, a
    ``call_item`` tuple or a list of them, each item whose value cannot be rebuilt failed."""
    from .protocol import Done

    try:
        message = loads_lenient(data)
    except Exception:
        raise exc from None
    if type(message) is Done:
        return _repaired_done(message, exc)
    if isinstance(message, list):
        return [_repaired_result(row, exc) if unrebuilt_in(row) is not None else row for row in message]
    return _repaired_result(message, exc)
