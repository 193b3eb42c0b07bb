"""What a run would do, without doing it: ``poolside run --dry-run`` and the Run tab's Preview.

    JobSpec ──prepare()──► plugin, bound task, a walk of the inputs (what the filter skips kept by name)
       │                        │
       │                        └─ plugin.output_name(item, **settings) ──► each output's name
       │                               └─ the collision policy, played out against the folder as it
       │                                  is and the names earlier items claim ──► PlannedOutput
       └─ predict(): the history, a study of this job (same plugin and settings) that measured
          this configuration, else this job's last clean run on it ──forecast()──► the wall time
    ──► Preview: plain data; poolside.words.preview says it (the CLI's --dry-run, the window's dialog)

    sample(): a few items run on the job's configuration, outputs in a scratch folder ──► a forecast
              (sample_job and sample_forecast are its parts: the window runs them in a run host)

``preview`` and ``predict`` run no task and write no file: the inputs are
listed (``lstat`` and directory listings), an output's name comes from the
plugin's ``output_name`` (which may read an input's header: ``thumbnail`` asks
Pillow for the format), and the history is opened read-only.  The window calls
them on a worker thread, with the plugin it loaded after the user's consent;
only ``sample`` runs the task, and never in the window's process.

A run's workers race for a name that several items want: which item keeps
``a.png`` and which gets ``a-1.png`` can differ from the preview's input
order; the number of renames, skips and overwrites does not.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .inputs import display
from .log import get_logger
from .spec import JobSpec, SpecError

log = get_logger(__name__)

#: Items, outputs and skipped entries kept by name (the counts are always whole).
LIST_LIMIT = 1000
#: Recent runs and studies of the same plugin looked through for a forecast.
HISTORY_LOOKBACK = 200
#: Item times read from a past run for a forecast (its bootstrap needs no more).
TIMES_LIMIT = 5000
#: A quick sample (``poolside run --dry-run --sample``): at most this many items...
SAMPLE_ITEMS = 200
#: ... stopped after this long (from the start, workers' start-up included): a glance, not a study.
#: Six items were too few: measured on 3,000 gzip items, their rate (first imports, cold workers)
#: predicted 12 s and 80 s for runs of 4.6 s and 4.3 s; the steady rate of a few seconds' items is
#: what a run's bulk goes at.
SAMPLE_BUDGET_S = 5.0
SAMPLED = "sample"  #: a forecast's source when it comes from a quick sample


# Why a preview has no forecast (poolside.words.preview says each in words).
NO_HISTORY, HISTORY_OFF, NOT_MEASURED, UNREADABLE = "no-history", "history-off", "not-measured", "unreadable"

# What happens to an item's output, as AtomicOutput would do it.
WRITE, RENAME, SKIP, OVERWRITE, REFUSE, UNKNOWN = "write", "rename", "skip", "overwrite", "refuse", "unknown"


@dataclass(frozen=True)
class PlannedOutput:
    """One item's output: where it would go and what the collision policy would do."""

    item: str
    path: str  #: where it ends up ("" when its name cannot be worked out)
    action: str  #: WRITE, RENAME, SKIP, OVERWRITE, REFUSE (the input itself), UNKNOWN (``error`` says why)
    wanted: str = ""  #: the name it asked for, when the policy changed or kept it from it
    clash: str = ""  #: what holds that name: "" (a file already there) or the earlier item claiming it
    error: str = ""


@dataclass
class Preview:
    """What ``spec`` would do.  Lists hold at most ``LIST_LIMIT`` entries; the counts are whole."""

    plugin: str
    config: dict[str, Any]
    items: int = 0
    first_items: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  #: reason -> entries
    skipped_items: list[tuple[str, str]] = field(default_factory=list)  #: (path, reason)
    patterns: tuple[str, ...] = ()
    output_folders: list[str] = field(default_factory=list)
    policy: str | None = None  #: the plugin's on_collision setting, when it has one
    names_known: bool = False  #: the plugin says its output names (``output_name``)
    outputs: list[PlannedOutput] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)  #: action -> outputs
    forecast: dict[str, Any] | None = None  #: ``Forecast.to_dict()``
    forecast_source: str = ""  #: "study 12" / "run 7": where the forecast's numbers come from
    #: Why there is none: NO_HISTORY, HISTORY_OFF, NOT_MEASURED, or UNREADABLE + ": " + the reason.
    forecast_missing: str = ""
    stopped: bool = False  #: the walk was stopped part-way: the counts are of what it saw

    @property
    def collisions(self) -> int:
        return sum(n for a, n in self.actions.items() if a not in (WRITE, UNKNOWN))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["collisions"] = self.collisions
        return data


def preview(spec: JobSpec, *, limit: int = LIST_LIMIT, history: bool = True,
            stop: Callable[[], bool] | None = None) -> Preview:
    """Work out what running ``spec`` would do; :class:`SpecError` for a job that cannot run as it stands.

    ``stop``: asked between items; once it says True the walk ends there and ``stopped`` is set
    (the window's preview of a huge folder ends with the window).
    """
    prepared = spec.prepare()
    plugin, task, walk = prepared.plugin, prepared.task, prepared.items
    walk.keep_skipped = limit
    options = prepared.run_options()
    result = Preview(plugin.name, {"backend": options["backend"], "workers": options["workers"],
                                   "chunk_size": spec.chunk_size, "method": spec.method},
                     patterns=walk.patterns)
    kwargs = dict(getattr(task, "kwargs", {}))
    folders = [Path(kwargs[name]) for name in plugin.outputs if isinstance(kwargs.get(name), PurePath)]
    result.output_folders = [str(f) for f in folders]
    policy = kwargs.get("on_collision")
    result.policy = policy if isinstance(policy, str) else None
    namer = plugin.output_name if folders else None
    result.names_known = namer is not None
    planner = _Planner(folders[0], result.policy or "rename") if namer is not None and folders else None
    for item in walk:
        if stop is not None and stop():
            result.stopped = True
            break
        result.items += 1
        if len(result.first_items) < limit:
            result.first_items.append(display(item))
        if planner is not None and namer is not None:
            planned = planner.plan(item, namer, kwargs)
            result.actions[planned.action] = result.actions.get(planned.action, 0) + 1
            if len(result.outputs) < limit:
                result.outputs.append(planned)
    result.skipped = dict(walk.skipped)
    result.skipped_items = [(display(p), reason) for p, reason in walk.skipped_paths]
    if history and not result.stopped:
        result.forecast, result.forecast_source, result.forecast_missing = predict(
            spec, result.items, plugin=plugin, kwargs=kwargs)
    return result


class _Planner:
    """Plays AtomicOutput's policy out in input order, against the folder as it is now."""

    def __init__(self, folder: Path, policy: str) -> None:
        self.folder = folder
        self.policy = policy
        self.claimed: dict[str, str] = {}  # a name this run would write -> the item writing it

    def plan(self, item: Any, namer: Any, kwargs: dict[str, Any]) -> PlannedOutput:
        from .plugins._files import safe_filename, split_name

        shown = display(item)
        try:
            name = safe_filename(namer(Path(os.fspath(item)), **kwargs))
        except Exception as e:  # the item would fail too: say why, as its outcome would
            return PlannedOutput(shown, "", UNKNOWN, error=f"{type(e).__name__}: {e}")
        target = self.folder / name
        exists = os.path.lexists(target)
        holder = self.claimed.get(name)
        if not exists and holder is None:
            self.claimed[name] = shown
            return PlannedOutput(shown, str(target), WRITE)
        clash = holder or ""
        if self.policy == "skip":
            return PlannedOutput(shown, str(target), SKIP, name, clash)
        if self.policy == "overwrite":
            if _same_file(target, item):
                return PlannedOutput(shown, str(target), REFUSE, name, clash)
            self.claimed[name] = shown
            return PlannedOutput(shown, str(target), OVERWRITE, name, clash)
        stem, suffix = split_name(name)
        n = 1
        while (candidate := f"{stem}-{n}{suffix}") in self.claimed or os.path.lexists(self.folder / candidate):
            n += 1
        self.claimed[candidate] = shown
        return PlannedOutput(shown, str(self.folder / candidate), RENAME, name, clash)


def _same_file(a: Path, b: Any) -> bool:
    try:
        return os.path.samefile(a, os.fspath(b))
    except (OSError, TypeError):
        return False


# -- the forecast -------------------------------------------------------------------------------

def predict(spec: JobSpec, items: int, *, plugin: Any = None,
            kwargs: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, str, str]:
    """How long ``items`` items of ``spec`` would take, from the history: (``Forecast.to_dict()`` or None,
    where it comes from ("study 12", "run 7"), why there is none).  Reads the history only; runs nothing.

    ``plugin`` and ``kwargs``: the job's plugin and bound settings, when the caller has them.
    """
    from .history import store

    if not store.enabled():
        return None, "", HISTORY_OFF
    path = store.db_path()
    if not path.exists():
        return None, "", NO_HISTORY
    if plugin is None or kwargs is None:
        plugin, task = spec.bind()
        kwargs = dict(getattr(task, "kwargs", {}))
    try:
        # Read-only: a preview writes nothing, not even a migration of the history's schema.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        log.warning("the history cannot be read for a forecast: %s", e)
        return None, "", f"{UNREADABLE}: {e}"
    try:
        found = _from_history(conn, spec, items, plugin, kwargs)
    except (sqlite3.Error, ValueError, KeyError, TypeError) as e:
        log.warning("no forecast from the history: %s", e, exc_info=True)
        return None, "", f"{UNREADABLE}: {e}"
    finally:
        conn.close()
    return (found[0], found[1], "") if found is not None else (None, "", NOT_MEASURED)


def sample_job(spec: JobSpec, count: int | None = None) -> tuple[Any, list[Any], Any]:
    """A quick sample's parts: ``(prepared job, the first few items, Scratch)``; :class:`SpecError` if the job
    cannot run.  ``Scratch.task()`` gives the task with its outputs in a folder deleted afterwards."""
    import itertools

    from .study.scratch import Scratch

    prepared = spec.prepare()
    want = count if count is not None else SAMPLE_ITEMS
    return prepared, list(itertools.islice(prepared.items, want)), Scratch(prepared.task, prepared.plugin.outputs)


def sample_forecast(spec: JobSpec, items: int, workers: int, outcomes: list[Any]) -> dict[str, Any] | None:
    """The forecast a sample's outcomes give for ``items`` items (None: no item ended ok)."""
    from .records import Status
    from .study.forecast import forecast
    from .study.plan import Config

    ok = [o for o in outcomes if o.status == Status.OK and o.started_s is not None]
    if not ok:
        return None
    times = [o.elapsed_s for o in ok]
    ends = sorted(o.started_s + o.elapsed_s for o in ok)
    # The first item on each worker pays for its start (imports, a cold process): the rate is the
    # steady one after them, and what they took beyond it is start-up, paid once.
    warm = min(workers, len(ends))
    steady = ends[warm - 1:]
    per_item = (steady[-1] - steady[0]) / (len(steady) - 1) if len(steady) >= 3 else ends[-1] / len(ends)
    per_item = max(per_item, 1e-9)
    startup = max(0.0, ends[warm - 1] - warm * per_item)
    speedup = max(sum(times) / len(times) / per_item, 1e-9)  # the concurrency the steady rate shows
    config = Config(spec.backend, workers, spec.chunk_size, spec.method)
    return forecast(items, times, config=config, speedup=speedup, startup_s=startup).to_dict()


def sample(spec: JobSpec, items: int, *, count: int | None = None,
           budget_s: float = SAMPLE_BUDGET_S) -> tuple[dict[str, Any] | None, str]:
    """Forecast ``items`` items of ``spec`` by running a few of them here, on its own configuration.

    This runs the task (the CLI's ``--dry-run --sample``; the window runs the
    same parts in its run host): its outputs go to a scratch folder deleted
    afterwards, as a study's do, and nothing is recorded in the history.
    Returns the forecast (None if no item ended ok in time) and ``SAMPLED``.
    """
    from . import run

    prepared, chosen, scratch = sample_job(spec, count)
    if not chosen:
        return None, SAMPLED
    options = prepared.run_options()
    outcomes: list[Any] = []
    try:
        with scratch.task() as task:
            job = run(task, chosen, **options, on_outcomes=outcomes.extend, finite=True)
            if not job.wait(budget_s):
                job.cancel()
                job.wait()
    finally:
        scratch.close()
    return sample_forecast(spec, items, options["workers"], outcomes), SAMPLED


def _from_history(conn: sqlite3.Connection, spec: JobSpec, items: int, plugin: Any,
                  kwargs: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    from .history.store import item_times
    from .study.forecast import forecast
    from .study.plan import Config

    config = Config(spec.backend, spec.resolved_workers(plugin.bound), spec.chunk_size, spec.method)
    same = _settings_key(plugin, kwargs)
    rows = conn.execute(
        "SELECT id, kind, spec, study, wall_s, total, ok, backend, workers FROM runs "
        "WHERE plugin = ? AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
        (spec.plugin, HISTORY_LOOKBACK)).fetchall()
    for run_id, kind, spec_json, study_json, wall_s, total, ok, backend, workers in rows:
        if _settings_key(plugin, _bound(plugin, spec_json)) != same:
            continue
        if kind == "study" and study_json:
            f = _from_study(json.loads(study_json), items, config)
            if f is not None:
                return f.to_dict(), f"study {run_id}"
        elif (kind == "run" and backend == config.backend and workers == config.workers
              and total and ok == total and wall_s and wall_s > 0):
            times = item_times(conn, run_id, TIMES_LIMIT)
            busy = sum(times) * (total / len(times)) if times else 0.0
            if busy <= 0:
                continue
            # The run's own concurrency, start-up included: its busy time over its wall time.
            f = forecast(items, times, config=config, speedup=busy / wall_s)
            return f.to_dict(), f"run {run_id}"
    return None


def _from_study(data: dict[str, Any], items: int, config: Any) -> Any:
    """A forecast from a study of this job that measured ``config`` (its backend and workers), or None.

    The study's own forecast (``study.recommend.job_forecast``: the sample's
    item times, scaled to the sequential median, over the configuration's
    measured speed-up), for this many items and this configuration.
    """
    from .study.recommend import job_forecast
    from .study.record import StudyResult

    study = StudyResult.from_dict(data)
    chosen = next((c for c in study.configs if c.runs and c.config.backend == config.backend
                   and (c.config.sequential or c.config.workers == config.workers)), None)
    if chosen is None or study.items <= 0:
        return None
    f = job_forecast(study, items, chosen.config)
    return None if f is None else dataclasses.replace(f, sampled=study.items)


def _bound(plugin: Any, spec_json: str) -> dict[str, Any] | None:
    """A recorded job's settings, checked and typed as this plugin binds them (None: they no longer bind)."""
    try:
        recorded = JobSpec.from_dict(json.loads(spec_json))
        return dict(plugin.bind(recorded.params).kwargs)
    except (SpecError, ValueError, TypeError, KeyError) as e:
        log.debug("a recorded job's settings do not bind: %s", e)
        return None


def _settings_key(plugin: Any, kwargs: dict[str, Any] | None) -> str | None:
    """The settings that change the work: every one but where the outputs go."""
    if kwargs is None:
        return None
    outputs = set(plugin.outputs)
    return json.dumps({k: str(v) for k, v in sorted(kwargs.items()) if k not in outputs})
