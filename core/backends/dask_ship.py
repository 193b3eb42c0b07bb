"""What travels to a Dask worker with each chunk, and what comes back: the plugin, the files, the outputs.

A worker on another machine has neither the plugin file nor the input files
of the client.  So the dask backend wraps the task in a :class:`ClusterTask`
and, in *shipped* mode, replaces each path item by its bytes::

    client: ClusterTask(task, plugin source) ──pickle──► worker: exec the source once per
            pack(path) -> Shipped(path, bytes)            process as the plugin's module
                                                          write the bytes to a private temp
                                                          folder, point the outputs at another
                                                          run the plugin on the temp path
    client: place(Returned) ◄──────────────────────────── Returned(value, output files' bytes)
            outputs written with the plugin's collision   temp folder removed (finally)
            policy into the client's output folder

A module plugin travels by name (the worker must have it installed); a file
plugin travels as its source text, run as the same module name as on the
client, so objects of its classes unpickle on either side.  Files the plugin
file itself imports must be installed on the worker.

Memory stays bounded: a file over the per-file limit is never read (its item
fails saying so), and the dask backend stops taking chunks while the bytes in
flight exceed its budget.  On the worker the bytes go to disk at once and the
temp folders live under Dask's own per-worker scratch folder, which Dask
removes when the worker closes and purges at the next start after a worker
died; :func:`remove_run_folders` sweeps a run's folders at its end too.

A task may come wrapped (the run host marks items through a wrapper with a
``task`` attribute, over ``(index, item)`` pairs): the plugin is found inside
it, and the path inside a pair travels.

This module is imported by Dask workers: it imports nothing heavy.
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import sys
import tempfile
import types
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any, NamedTuple

from ..plugins._task import BoundTask, module_name_for

#: Every temp folder a run makes on a worker starts with this and the run's id.
FOLDER_PREFIX = "poolside-"


class PluginSource(NamedTuple):
    """A file plugin's text, to run on a worker that cannot read the file."""

    path: str  #: the path on the client: it names the module (``module_name_for``)
    mtime_ns: int  #: as in the task's reference, so the worker's copy matches it
    text: str


class Shipped(NamedTuple):
    """A path item sent as its bytes (shipped mode); ``problem`` is why it could not be."""

    path: str  #: the client's path: the item's name, and what values mentioning it say
    data: bytes | None
    as_path: bool  #: the item was a ``Path`` (else ``str``): the plugin gets the same type
    problem: str = ""


class Returned(NamedTuple):
    """An item's value and the output files the plugin wrote on the worker."""

    value: Any
    #: (output parameter, path relative to its folder, bytes)
    files: list[tuple[str, str, bytes]]


class ShipError(Exception):
    """A file that cannot travel (too large, unreadable, or an output too large to bring back)."""


class MissingPackage(ModuleNotFoundError):
    """The plugin needs a package that this Dask worker lacks."""


def inner_task(task: Any) -> Any:
    """The plugin's task inside wrappers that hold it as ``task`` (at most a few deep), or ``task``."""
    inner = task
    for _ in range(4):
        if isinstance(inner, BoundTask) or not hasattr(inner, "task"):
            break
        inner = inner.task
    return inner if isinstance(inner, BoundTask) else task


def _with_inner(task: Any, inner: BoundTask) -> Any:
    """``task`` with the plugin's task inside it replaced by ``inner`` (wrappers copied, not changed)."""
    if isinstance(task, BoundTask):
        return inner
    wrapper = copy.copy(task)
    wrapper.task = _with_inner(task.task, inner)
    return wrapper


def _pair(item: Any) -> bool:
    """An ``(index, item)`` pair, as the run host feeds its marking wrapper."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int)


def first_path(items: list[Any]) -> str | None:
    """The first path among ``items`` (inside pairs too), or ``None``."""
    for item in items:
        item = item[1] if _pair(item) else item
        if isinstance(item, (str, os.PathLike)):
            return os.fspath(item)
    return None


def plugin_source(task: Any) -> PluginSource | None:
    """The source of ``task``'s plugin file, when it is a file plugin; ``None`` for anything else."""
    task = inner_task(task)
    if not isinstance(task, BoundTask) or task.target[0] != "file" or len(task.target) != 4:
        return None
    path = task.target[1]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read the plugin file {path!r} to send it to the cluster: {e}") from None
    return PluginSource(path, int(task.target[3]), text)


def pack(item: Any, limit: int) -> tuple[Any, int]:
    """``item`` as it travels in shipped mode, and how many bytes it holds.

    Items that are not paths travel as they are.  A file over ``limit`` bytes
    or that cannot be read is not read: its item fails on the worker with
    the reason (so it ends in one outcome like every other).
    """
    if _pair(item):
        packed, n = pack(item[1], limit)
        return (item[0], packed), n
    if not isinstance(item, (str, PurePath)):
        return item, 0
    path, as_path = os.fspath(item), isinstance(item, PurePath)
    try:
        size = os.stat(path).st_size
        if size > limit:
            return Shipped(path, None, as_path, f"{path} is {_mb(size)}, over the {_mb(limit)} limit for "
                                                "a shipped file; use shared storage for it, or raise "
                                                "the limit (backend option ship_limit_mb)"), 0
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        return Shipped(path, None, as_path, f"the client cannot read {path} to ship it: "
                                            f"{e.strerror or e}"), 0
    if len(data) > limit:  # it grew since the stat
        return Shipped(path, None, as_path, f"{path} grew past the {_mb(limit)} limit for a shipped file"), 0
    return Shipped(path, data, as_path), len(data)


def _mb(n: int) -> str:
    from ..words.units import human_bytes

    return human_bytes(n)


class ClusterTask:
    """The task as a Dask worker runs it: loads a shipped plugin, unpacks shipped files, gathers outputs."""

    __slots__ = ("task", "source", "outputs", "run_id", "limit")

    def __init__(self, task: Callable[[Any], Any], source: PluginSource | None,
                 outputs: tuple[str, ...], run_id: str, limit: int) -> None:
        self.task = task
        self.source = source
        #: The output parameters to bring back (shipped mode only; empty: none).
        self.outputs = outputs
        self.run_id = run_id
        self.limit = limit

    def __getstate__(self) -> tuple:
        return (self.task, self.source, self.outputs, self.run_id, self.limit)

    def __setstate__(self, state: tuple) -> None:
        self.task, self.source, self.outputs, self.run_id, self.limit = state

    def __call__(self, item: Any) -> Any:
        try:
            if self.source is not None:
                _load_source(self.source)
            shipped = item[1] if _pair(item) else item
            if not isinstance(shipped, Shipped) and not self.outputs:
                return self.task(item)
            return self._in_folder(item)
        except ModuleNotFoundError as e:
            if isinstance(e, MissingPackage) or not e.name:
                raise
            raise MissingPackage(f"the package {e.name!r} is not installed on the Dask worker "
                                 f"{_worker_name()}: install it there (pip install {e.name.split('.')[0]})",
                                 name=e.name) from None

    def _in_folder(self, item: Any) -> Any:
        """Run one item in a private temp folder: its shipped input, its outputs; removed after."""
        folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{self.run_id}-", dir=_scratch())
        try:
            renames: dict[str, str] = {}
            shipped = item[1] if _pair(item) else item
            if isinstance(shipped, Shipped):
                if shipped.problem:
                    raise ShipError(shipped.problem)
                local = os.path.join(folder, "in", os.path.basename(shipped.path) or "item")
                os.makedirs(os.path.dirname(local))
                with open(local, "wb") as f:
                    f.write(shipped.data or b"")
                renames[local] = shipped.path
                unpacked: Any = Path(local) if shipped.as_path else local
                item = (item[0], unpacked) if _pair(item) else unpacked
            task, out_folders = self._with_outputs(folder)
            inner = inner_task(self.task)
            for name, local_out in out_folders.items():
                renames[local_out] = os.fspath(inner.kwargs[name])
            value = task(item)
            return Returned(_swap(value, renames), self._gather(out_folders))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _with_outputs(self, folder: str) -> tuple[Callable[[Any], Any], dict[str, str]]:
        """The task writing its declared outputs into ``folder``, and where each went."""
        inner = inner_task(self.task)
        if not self.outputs or not isinstance(inner, BoundTask):
            return self.task, {}
        out_folders = {name: os.path.join(folder, "out", name) for name in self.outputs if name in inner.kwargs}
        kwargs = {**inner.kwargs, **{name: Path(p) for name, p in out_folders.items()}}
        return _with_inner(self.task, BoundTask(inner.target, kwargs, inner.name, inner.as_path)), out_folders

    def _gather(self, out_folders: Mapping[str, str]) -> list[tuple[str, str, bytes]]:
        files = []
        for name, top in out_folders.items():
            for here, _dirs, names in os.walk(top):
                for file_name in names:
                    path = os.path.join(here, file_name)
                    size = os.path.getsize(path)
                    if size > self.limit:
                        raise ShipError(f"the output {file_name} is {_mb(size)}, over the {_mb(self.limit)} "
                                        "limit for a file brought back from the cluster")
                    with open(path, "rb") as f:
                        files.append((name, os.path.relpath(path, top), f.read()))
        return files


def _load_source(source: PluginSource) -> None:
    """Run the plugin's source as its module, once per process and version of the file.

    It goes into ``sys.modules`` under the name the client's loader gives the
    file, with the same version stamp, so ``_task.resolve`` takes it as the
    file already loaded and never looks for the file on this machine.
    """
    name = module_name_for(source.path)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__poolside_mtime__", None) == source.mtime_ns:
        return
    module = types.ModuleType(name)
    module.__file__ = source.path
    setattr(module, "__poolside_mtime__", source.mtime_ns)  # noqa: B010 (a module has no declared attributes)
    sys.modules[name] = module
    try:
        exec(compile(source.text, source.path, "exec"), module.__dict__)  # the user's own plugin, as on the client
    except BaseException:
        sys.modules.pop(name, None)
        raise


def _scratch() -> str:
    """Dask's scratch folder of this worker (Dask cleans it up, even after a crash), else the temp folder."""
    try:
        from distributed import get_worker

        return str(get_worker().local_directory)
    except (ImportError, ValueError):  # not inside a Dask worker (a direct call)
        return tempfile.gettempdir()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return f"{get_worker().address} ({socket.gethostname()})"
    except (ImportError, ValueError):
        return socket.gethostname()


def _swap(value: Any, renames: Mapping[str, str]) -> Any:
    """``value`` with the worker's temp paths (and paths inside them) replaced by the client's."""
    if not renames:
        return value
    if isinstance(value, (str, PurePath)):
        text = os.fspath(value)
        for local, client in renames.items():
            if text == local or text.startswith(local + os.sep):
                text = client + text[len(local):]
                return type(value)(text) if isinstance(value, PurePath) else text
        return value
    if isinstance(value, dict):
        return {k: _swap(v, renames) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_swap(v, renames) for v in value)
    return value


def call_chunk_here(task: Callable[[Any], Any], chunk: Any, origin: float) -> tuple[Any, str]:
    """Run a chunk on a Dask worker (``call_chunk``); its ``Done`` and the worker's address, which names
    the chunk's track in a trace (a pid alone says nothing of which machine ran it)."""
    from ._worker import call_chunk

    done = call_chunk(task, chunk, origin)
    try:
        from distributed import get_worker

        return done, str(get_worker().address)
    except (ImportError, ValueError):  # not inside a Dask worker (a direct call)
        return done, ""


def remove_run_folders(run_id: str) -> int:
    """Remove what a run left in this worker's scratch folder (run on every worker at a run's end)."""
    base, removed = _scratch(), 0
    prefix = f"{FOLDER_PREFIX}{run_id}-"
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            removed += 1
    return removed


def place(returned: Returned, task: Any) -> Any:
    """Write an item's returned outputs into the client's output folders; its value, paths adjusted.

    The plugin's ``on_collision`` setting (rename, skip, overwrite; rename when
    it has none) decides what happens to a name already there, as it would
    have on this machine.
    """
    from ..plugins._files import AtomicOutput

    kwargs: Mapping[str, Any] = getattr(inner_task(task), "kwargs", {})
    policy = kwargs.get("on_collision", "rename")
    renames: dict[str, str] = {}
    for name, relative, data in returned.files:
        folder = Path(kwargs[name]) / os.path.dirname(relative)
        output = AtomicOutput(folder, os.path.basename(relative), policy)
        wanted = str(output.path)
        if output.skipped:
            continue
        with output as f:
            f.write(data)
        if str(output.path) != wanted:
            renames[wanted] = str(output.path)
    return _swap(returned.value, renames)
