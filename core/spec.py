"""The job spec: one plain record that says what to run, built by every front end.

    CLI flags ─┐                                   ┌─► poolside.run(task, items, **spec.run_options(...))
    window form ├─► JobSpec ──(pickle / TOML / JSON)┼─► the run host (another process) does the same
    study plan ─┤     │                             └─► the history database (spec_record)
    job.toml ──┘      └─ prepare() ─► Prepared(plugin, task, items)

A spec holds names and values, never a callable: it crosses process
boundaries (the run host), is saved to a file (``poolside run --spec``, the
window's *Save job…*) and is stored with every run in the history, so a batch
is repeatable and shareable.  :meth:`JobSpec.prepare` turns it into a bound
task and a lazy walk of the inputs, raising :class:`SpecError` (one clear
line) for anything wrong with it; ``resolved_workers`` is the one place the
default worker count is worked out.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .inputs import Expansion
    from .plugins import BoundTask, Plugin

#: Bumped when a field changes meaning; files and history rows carry it.
SPEC_VERSION = 1


class SpecError(ValueError):
    """A job spec that cannot run as it stands: the message says why, in one line."""


@dataclass(frozen=True)
class JobSpec:
    """What to run, over what, and how: plain values only (it pickles, and it round-trips through TOML)."""

    plugin: str  #: a plugin name (``poolside plugins``) or ``FILE.py:FUNCTION``
    paths: tuple[str, ...] = ()  #: files, and folders (walked with ``recursive``)
    params: Mapping[str, Any] = field(default_factory=dict)  #: the plugin's parameters, as given
    recursive: bool = False
    #: Which files in folders to take; empty: the plugin's own patterns (``("*",)``: every file).
    patterns: tuple[str, ...] = ()
    backend: str = "processes"
    workers: int | None = None  #: ``None``: the backend's default for the plugin's kind of work
    chunk_size: int | str = "auto"
    timeout: float | None = None  #: per item, in seconds
    ordered: bool = False
    method: str | None = None  #: the classic pools' call (map, imap, imap_unordered, submit)
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    #: Paths never walked into (output folders, the record file being written).
    exclude: tuple[str, ...] = ()
    #: Bytes a worker process may hold (USS) before it is killed and its item fails; a size
    #: such as ``"1GB"`` is read at once.  Process backends only (``caps_worker_memory``).
    max_memory_per_worker: int | None = None
    #: Threads each worker's libraries (BLAS, OpenMP) may use while an item runs (threadpoolctl);
    #: ``None``: as many as they take.  Process backends and sequential only (``engine.libthreads``).
    library_threads: int | None = None

    def __post_init__(self) -> None:
        # Lists from TOML/JSON become tuples, so specs compare and hash by value.
        for name in ("paths", "patterns", "exclude"):
            value = getattr(self, name)
            if isinstance(value, (str, PurePath)):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "backend_options", dict(self.backend_options))
        if not self.plugin:
            raise SpecError("no plugin: name one (see 'poolside plugins') or give FILE.py:FUNCTION")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise SpecError(f"workers must be a whole number of at least 1, got {self.workers!r}")
        if self.chunk_size != "auto" and (not isinstance(self.chunk_size, int) or self.chunk_size < 1):
            raise SpecError(f"chunk_size must be 'auto' or a whole number of at least 1, got {self.chunk_size!r}")
        if self.timeout is not None and not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise SpecError(f"timeout must be a number of seconds above 0, got {self.timeout!r}")
        if self.library_threads is not None and (isinstance(self.library_threads, bool)
                                                 or not isinstance(self.library_threads, int)
                                                 or self.library_threads < 1):
            raise SpecError(f"library_threads must be a whole number of at least 1, got {self.library_threads!r}")
        if self.max_memory_per_worker is not None:
            from .words.units import SizeError, parse_size

            try:
                object.__setattr__(self, "max_memory_per_worker", parse_size(self.max_memory_per_worker))
            except SizeError as e:
                raise SpecError(f"max_memory_per_worker: {e}") from None

    # -- resolving ------------------------------------------------------------

    def replace(self, **changes: Any) -> JobSpec:
        return dataclasses.replace(self, **changes)

    def resolved_workers(self, bound: str = "mixed") -> int:
        """The worker count this spec runs with: its own, else the backend's default for ``bound``."""
        if self.workers is not None:
            return 1 if self.backend == "sequential" else self.workers
        from .system import default_workers

        return default_workers(self.backend, bound)

    def load_plugin(self) -> Plugin:
        from .plugins import PluginError, get_plugin

        try:
            return get_plugin(self.plugin)
        except PluginError as e:
            raise SpecError(str(e)) from None

    def bind(self) -> tuple[Plugin, BoundTask]:
        """The plugin and its task bound to the parameters, on a backend that exists; :class:`SpecError` if not."""
        from .backends import get_backend
        from .engine.libthreads import caps_library_threads
        from .plugins import ParamError

        try:
            backend = get_backend(self.backend)  # a clear error for a name or a missing optional package
        except ValueError as e:
            raise SpecError(str(e)) from None
        if self.max_memory_per_worker is not None and not backend.caps_worker_memory:
            from .words.memory import cap_unsupported

            raise SpecError(cap_unsupported(backend.name, backend.kind))
        if self.library_threads is not None and not caps_library_threads(backend.name, backend.kind):
            from .words.configs import library_threads_unsupported

            raise SpecError(library_threads_unsupported(backend.name, backend.kind))
        plugin = self.load_plugin()
        try:
            return plugin, plugin.bind(self.params)
        except ParamError as e:
            raise SpecError(str(e)) from None

    def prepare(self, *, extra_exclude: tuple[str | PurePath, ...] = ()) -> Prepared:
        """The plugin, its bound task and a lazy walk of the inputs; :class:`SpecError` if any is wrong."""
        from .inputs import InputUsageError, expand

        plugin, task = self.bind()
        if not self.paths:
            raise SpecError("no input: give the files or folders to run over")
        patterns = self.patterns or plugin.accepts
        if patterns == ("*",):
            patterns = ()
        # Never walk into the plugin's own output folders (they fill up as it runs).
        outputs: list[str | PurePath] = [v for v in task.kwargs.values() if isinstance(v, PurePath)]
        outputs += [*self.exclude, *extra_exclude]
        try:
            items = expand(self.paths, recursive=self.recursive, patterns=patterns, exclude=outputs)
        except InputUsageError as e:
            raise SpecError(str(e)) from None
        return Prepared(self, plugin, task, items)

    def run_options(self, bound: str = "mixed") -> dict[str, Any]:
        """Keyword arguments for :func:`poolside.run` (task and items aside)."""
        options: dict[str, Any] = {
            "backend": self.backend, "workers": self.resolved_workers(bound), "timeout": self.timeout,
            "ordered": self.ordered, "chunk_size": self.chunk_size, "bound": bound,
        }
        if self.method is not None:
            options["method"] = self.method  # run() says clearly when a backend has none
        if self.backend_options:
            options["backend_options"] = dict(self.backend_options)
        if self.max_memory_per_worker is not None:
            options["backend_options"] = {**self.backend_options, "max_memory_per_worker": self.max_memory_per_worker}
        if self.library_threads is not None:
            options["library_threads"] = self.library_threads
        return options

    # -- plain data, files -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples; no ``None`` values): what TOML, JSON and the history keep."""
        out: dict[str, Any] = {"version": SPEC_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or (f.name != "plugin" and value in ((), {})):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        data = dict(data)
        version = data.pop("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise SpecError(f"this job file is version {version}; this Poolside reads version {SPEC_VERSION}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown field{'s' if len(unknown) > 1 else ''} in the job: {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")
        if "plugin" not in data:
            raise SpecError("the job names no plugin")
        try:
            return cls(**data)
        except TypeError as e:
            raise SpecError(f"the job is malformed: {e}") from None

    def to_toml(self) -> str:
        """The spec as a TOML document (``poolside run --spec job.toml`` reads it back)."""
        data = self.to_dict()
        tables = {k: data.pop(k) for k in ("params", "backend_options") if k in data}
        lines = ["# A Poolside job: poolside run --spec THIS_FILE"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in data.items()]
        for name, table in tables.items():
            lines += ["", f"[{name}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path) -> None:
        try:
            Path(path).write_text(self.to_toml(), encoding="utf-8")
        except UnicodeEncodeError:
            raise SpecError("a job file holds UTF-8 text; a path in this job is not valid UTF-8") from None
        except OSError as e:
            raise SpecError(f"cannot write the job file {str(path)!r}: {e.strerror or e}") from None

    @classmethod
    def load(cls, path: str | Path) -> JobSpec:
        """Read a spec saved as TOML (or JSON, by the ``.json`` extension); relative paths stay as written."""
        import json

        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise SpecError(f"cannot read the job file {str(p)!r}: {e.strerror or e}") from None
        try:
            data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
            raise SpecError(f"{str(p)!r} is not a valid job file: {e}") from None
        return cls.from_dict(data)


@dataclass(frozen=True)
class Prepared:
    """A spec made ready to run in this process: the plugin, its bound task, the lazy inputs."""

    spec: JobSpec
    plugin: Plugin
    task: BoundTask
    items: Expansion

    def run_options(self) -> dict[str, Any]:
        return self.spec.run_options(self.plugin.bound)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    from .serialize import jsonable

    converted = jsonable(value)  # an enum, a set, a numpy number: as the history's JSON holds it
    if not isinstance(converted, str) or isinstance(value, enum.Enum):
        return _toml_value(converted)
    raise SpecError(f"a job file cannot hold {type(value).__name__} values ({value!r})")
