"""``joblib.Parallel`` on its loky process pool, as the scikit-learn world writes it::

    for result in Parallel(n_jobs=workers, return_as="generator_unordered")(
            delayed(task)(item) for item in items):
        ...

joblib reads the generator of calls lazily (``pre_dispatch``, two batches per
worker), sizes its batches itself (``batch_size="auto"``, or ``chunk_size``)
and, with ``return_as="generator_unordered"`` (joblib >= 1.4), yields results
as they complete.  The ``method`` option is joblib's ``return_as``:
``generator_unordered`` (default), ``generator`` (input order) or ``list``
(everything at the end).  Each item runs through ``call_item``, the
``try``/``except`` wrapper, so one failing item does not end the call.

The backend takes the whole input (``takes_input``): joblib pulls items from
a thread of its own while it holds its dispatch lock, and it must never wait
there on the engine's window.  A worker that dies aborts the whole call, as in
joblib (``TerminatedWorkerError``): every item without a result ends
``failed`` with that error.  A hung item waits until cancel.  loky keeps its
executor for the next call; Poolside shuts it down at the end of every run so
that no worker process outlives it.

Data flow::

    engine --chunk--> Feed --(key, item)--> Parallel(delayed(call_item)...) --> reader thread --> poll()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .classic import ClassicPool, end_stuck_workers


class JoblibBackend(ClassicPool):
    name = "joblib"
    library = "joblib"
    label = "joblib (loky)"
    kind = "processes"
    wins = "CPU-bound Python written the scikit-learn way; robust to crashes, aborts on one"
    description = (
        "joblib.Parallel on its loky process pool, with return_as='generator_unordered': "
        "auto-sized batches and workers reused between calls. Parallel like Processes; "
        "a worker that dies aborts the whole call (every unfinished item fails), and there "
        "is no per-item timeout."
    )
    methods = ("generator_unordered", "generator", "list")

    def __init__(self, task: Callable[[Any], Any], workers: int, *,
                 timeout: float | None, origin: float,
                 method: str = "generator_unordered") -> None:
        super().__init__(task, workers, timeout=timeout, origin=origin, method=method)

    def _start_pool(self) -> None:
        # Imported here: joblib costs ~0.2 s to import, and only this backend needs it.
        try:
            import joblib
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ValueError("the joblib backend needs joblib >= 1.4: pip install joblib") from exc
        self._joblib = joblib

    def _library_call(self, function: Callable[[Any], Any], items: Iterable[Any],
                      chunksize: int) -> Iterator[Any]:
        joblib = self._joblib
        batch_size = self.chunk_size if isinstance(self.chunk_size, int) else "auto"
        self._library_known = batch_size != "auto"
        parallel = joblib.Parallel(n_jobs=self.workers, backend="loky", batch_size=batch_size,
                                   return_as=self.method)
        call = joblib.delayed(function)
        results = parallel(call(keyed) for keyed in items)
        for result in results:
            yield result
            if self._stopping.is_set():
                return

    def _stop_pool(self, cancel: bool) -> None:
        from joblib.externals.loky import reusable_executor

        # The executor loky keeps for the next call; reading the module's own
        # global is the only way to reach it without starting a new one.
        executor = getattr(reusable_executor, "_executor", None)
        if executor is None:
            return
        if not cancel:
            # Its table of processes, read before shutdown forgets it (as the
            # standard executor's is, in process-executor's _stop_pool).
            processes = list((getattr(executor, "_processes", None) or {}).values())
            executor.shutdown(wait=False)
            end_stuck_workers(self.name, processes)
        executor.shutdown(wait=True, kill_workers=cancel)

    def _submit(self, chunk: Any, finished: Callable[[Any, Any], None]) -> None:
        raise AssertionError("joblib takes its input through the feed")  # pragma: no cover
