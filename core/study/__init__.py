"""Compare ways of running one job on the user's own items, and say which wins and why.

    from poolside import compare
    study = compare(JobSpec("sha256", paths=("photos",), recursive=True))   # auto mode, 60 s budget
    study.recommendation.why        # "CPU work in code that releases the GIL; ..."
    study.to_dict()                 # what `poolside compare --json` writes

    plan.py       configurations; the explicit grid; auto mode's decisions (pure functions)
    runner.py     the study: sample, warm-ups, repeats interleaved in a seeded shuffled order, budget, cancel
    measure.py    one engine run measured; the run-insights adapter
    scratch.py    outputs redirected to a scratch folder, deleted after each run
    stats.py      median, MAD, warnings, the winner's lead (Mann-Whitney, bootstrap)
    diagnose.py   what limits: transfer / overhead / already-parallel / waiting / mixed / imbalanced /
                  cpu-gil / cpu-parallel, with the measured evidence
    recommend.py  speed-ups, the winner, scaling (Karp-Flatt), the whole job's forecast
    scaling.py    the Universal Scalability Law where workers varied: peak, retrograde, predictions
    forecast.py   the whole job's wall time from the sample's per-item times, with a range
    memory.py     what each configuration needs in memory; those above the cap or the memory available
    snippet.py    the winner as a script that runs without Poolside
    cluster.py    a Dask cluster as a configuration, and when it pays
    (words: poolside.words, the one place numbers become sentences)
    record.py     RunNumbers, ConfigResult, StudyResult (to_dict: the JSON; from_dict reads it back)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import cluster as study_cluster
from .plan import BASELINE, Config, StudyPlan, grid
from .record import ConfigResult, Diagnosis, Recommendation, RunNumbers, StudyResult
from .runner import Progress, Round, Study, StudyError

__all__ = ["BASELINE", "Config", "ConfigResult", "Diagnosis", "Progress", "Recommendation", "Round", "RunNumbers",
           "Study", "StudyError", "StudyPlan", "StudyResult", "compare", "grid", "prepare_plan", "prepare_study"]


def prepare_study(task_or_spec: Any, items: Iterable[Any] | None = None, *, sample: int | None = None,
                  budget_s: float = 60.0, repeats: int = 3, backends: Sequence[str] | None = None,
                  workers: Sequence[int] | None = None, chunk_sizes: Sequence[int | str] | None = None,
                  methods: Sequence[str | None] | None = None, timeout: float | None = None,
                  allow_side_effects: bool = False, seed: int | None = None, max_memory: int | str | None = None,
                  on_progress: Callable[[Progress], None] | None = None,
                  on_round: Callable[[Round], None] | None = None,
                  predict_workers: Sequence[int] | None = None) -> Study:
    """A :class:`Study` ready to ``run()`` (and to ``cancel()`` from another thread).

    ``task_or_spec`` is a :class:`~poolside.spec.JobSpec` (its inputs are walked
    unless ``items`` is given), a bound plugin task, or any picklable callable.
    Give ``backends``, ``workers``, ``chunk_sizes`` or ``methods`` for an explicit
    grid; otherwise auto mode decides within ``budget_s`` seconds.  A plugin that
    declares side effects (``fetch`` downloads) needs ``allow_side_effects=True``:
    a study repeats them a dozen times.  ``seed`` picks the sample and each
    round's order of configurations (drawn at random when not given); the
    record keeps it, so a study can be repeated exactly.  ``predict_workers``:
    worker counts the scaling model predicts speed-ups for (where the workers
    varied over three counts or more).  ``max_memory`` (bytes, or a size such
    as "2GB"): the recommendation never needs more (default: the memory available).
    """
    from ..spec import JobSpec

    cap = None if max_memory is None else _size(max_memory)  # a bad size is refused before any walk
    plugin = None
    params: dict[str, Any] = {}
    task = task_or_spec
    if isinstance(task_or_spec, JobSpec):
        prepared = task_or_spec.prepare()
        plugin, task, params = prepared.plugin, prepared.task, dict(task_or_spec.params)
        timeout = task_or_spec.timeout if timeout is None else timeout
        if items is None:
            items = prepared.items
    else:
        plugin = _plugin_of(task)
    if items is None:
        raise StudyError("no items: give the items to compare on")
    if plugin is not None and plugin.side_effects and not allow_side_effects:
        raise StudyError(f"plugin {plugin.name!r} {plugin.side_effects}: a comparison repeats that for every "
                         "run; confirm with allow_side_effects=True (--yes)")
    configs = None
    if any(x is not None for x in (backends, workers, chunk_sizes, methods)):
        from ..system import system_info

        configs = grid(backends or ("threads", "processes"), workers or (max(2, system_info().usable_cores),),
                       chunk_sizes or ("auto",), methods or (None,))
        configs = study_cluster.fit_grid(configs, study_cluster.options(task_or_spec))
    return Study(task, list(items), configs=configs, repeats=repeats, sample=sample, budget_s=budget_s,
                 timeout=timeout, outputs=plugin.outputs if plugin is not None else (),
                 plugin=plugin.name if plugin is not None else "", params=params, seed=seed,
                 max_memory=cap, on_progress=on_progress, on_round=on_round,
                 cluster=study_cluster.options(task_or_spec), predict_workers=predict_workers)


def prepare_plan(plan: StudyPlan, *, on_progress: Callable[[Progress], None] | None = None,
                 on_round: Callable[[Round], None] | None = None) -> Study:
    """The :class:`Study` a front end's :class:`StudyPlan` asks for (the study host runs it)."""
    grid_only: dict[str, Any] = {}
    if plan.grid:
        grid_only = {"backends": plan.backends or None, "workers": plan.workers or None,
                     "chunk_sizes": plan.chunk_sizes or None, "methods": plan.methods or None}
    return prepare_study(plan.spec, sample=plan.sample, budget_s=plan.budget_s, repeats=plan.repeats,
                         allow_side_effects=plan.allow_side_effects, max_memory=plan.max_memory,
                         on_progress=on_progress, on_round=on_round,
                         **grid_only)


def compare(task_or_spec: Any, items: Iterable[Any] | None = None, *, record: bool = True,
            **options: Any) -> StudyResult:
    """Run a study and return its record (``.to_dict()`` is the JSON ``poolside compare --json`` writes).

    Options as :func:`prepare_study`.  A study of a :class:`~poolside.spec.JobSpec`
    is kept in the history, as ``poolside compare`` keeps it (``record=False``:
    not); a history that cannot be written is a :class:`RuntimeWarning` and a
    log line, never a lost study.  A bare callable is not a job: not recorded.
    """
    from ..spec import JobSpec

    result = prepare_study(task_or_spec, items, **options).run()
    if record and isinstance(task_or_spec, JobSpec):
        from ..history import HistoryError, record_study

        try:
            record_study(task_or_spec, result)
        except HistoryError as e:
            import warnings

            from ..log import get_logger

            get_logger(__name__).warning("the study is not in the history: %s", e)
            warnings.warn(f"the study is not in the history: {e}", RuntimeWarning, stacklevel=2)
    return result


def _size(text: int | str) -> int:
    from ..words.units import SizeError, parse_size

    try:
        return parse_size(text)
    except SizeError as e:
        raise StudyError(f"max_memory: {e}") from None


def _plugin_of(task: Any) -> Any:
    """The plugin behind a bound task, to learn its outputs and side effects; None for a plain callable."""
    target = getattr(task, "target", None)
    if target is None:
        return None
    try:
        from ..plugins import from_function
        from ..plugins._task import resolve

        return from_function(resolve(target), source=str(target[1]), target=target)
    except Exception as e:  # a task whose plugin no longer loads still runs: no outputs or side effects known
        from ..log import get_logger

        get_logger(__name__).info("no plugin behind task %r: %s", target, e)
        return None
