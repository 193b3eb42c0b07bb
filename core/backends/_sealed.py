"""Results sealed as bytes in a library pool's worker, so that the library never loses them.

``multiprocessing.Pool``, ``ProcessPoolExecutor`` and loky unpickle each
result in a thread of their own.  A result that pickles in the worker but
cannot be rebuilt in the parent (a ``__reduce__`` whose callable raises, a
class that does not import there) then breaks that thread: Pool's result
handler dies and every later call waits forever; the executor and loky mark
the whole pool broken.  One bad value fails every item after it.

So a process pool's worker call returns its result already pickled, and the
library carries bytes, which always load; the backend opens them itself::

    worker: seal(call_item, task, origin, keyed) ──pickle.dumps──► bytes ──library──►
    parent: unseal(bytes) ──pickle.loads──► the call_item tuple / list / Done
                   └─ fails ──► _unpickle.repair_*: the items whose values cannot be
                                rebuilt end failed, the others keep theirs

The cost is one more ``pickle.dumps``/``loads`` call per result and the
copy of its bytes; the value itself is pickled once, as before.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from ..records import ErrorInfo, describe_error

_PROTOCOL = pickle.HIGHEST_PROTOCOL


def seal(function: Callable[..., Any], *args: Any) -> bytes:
    """``function(*args)``, pickled here; a result that does not pickle says so per item."""
    result = function(*args)
    try:
        return pickle.dumps(result, _PROTOCOL)
    except Exception as exc:
        return pickle.dumps(_picklable(result, exc), _PROTOCOL)


def _picklable(result: Any, exc: BaseException) -> Any:
    """``result`` with each value that does not pickle replaced by the error that says so."""
    from ._calls import ERROR, VALUE
    from .protocol import Done

    def error_for(value: Any, why: BaseException) -> ErrorInfo:
        return ErrorInfo("PicklingError", f"the task's result ({type(value).__name__}) cannot be sent back "
                                          f"from the worker process: {describe_error(why)}")

    def fixed_tuple(row: tuple) -> tuple:
        try:
            pickle.dumps(row[VALUE], _PROTOCOL)
            return row
        except Exception as why:
            return (*row[:VALUE], None, error_for(row[VALUE], why), *row[ERROR + 1:])

    if isinstance(result, Done):
        values, errors = list(result.values), list(result.errors or ())
        for i, value in enumerate(values):
            try:
                pickle.dumps(value, _PROTOCOL)
            except Exception as why:
                values[i] = None
                errors.append((i, error_for(value, why)))
        return result._replace(values=values, errors=sorted(errors, key=lambda e: e[0]) or None)
    if isinstance(result, list):
        return [fixed_tuple(row) for row in result]
    if isinstance(result, tuple):
        return fixed_tuple(result)
    raise exc


def unseal(data: Any) -> Any:
    """The result in ``data`` (anything else, an exception the library raised, is returned as is)."""
    if type(data) is not bytes:
        return data
    try:
        return pickle.loads(data)
    except Exception as exc:
        return _repaired(data, exc)


def _repaired(data: bytes, exc: BaseException) -> Any:
    from ._unpickle import repair_sealed

    return repair_sealed(data, exc)
