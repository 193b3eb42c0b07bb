"""Working code for the winner: a short script that runs the job the recommended way, without Poolside.

    JobSpec ──bind()──► plugin (module or file), its settings (bound, converted)
    Config (the recommendation) ──family──► how the library's tutorials call it:
        processes / process-executor  ProcessPoolExecutor.map(task, ITEMS, chunksize=...)
        process-per-item              ProcessPoolExecutor(max_tasks_per_child=1)
        threads / thread-executor     ThreadPoolExecutor.map(task, ITEMS)
        mp-pool / mp-thread-pool      Pool / ThreadPool .imap_unordered(..., chunksize=...)
        joblib                        Parallel(n_jobs, batch_size)(delayed(task)(item) ...)
        asyncio                       a semaphore of N over asyncio.gather (to_thread for a plain function)
        dask                          Client(n_workers=N).map(task, ITEMS)
        sequential                    a for loop
    Config.library_threads ──► each item under threadpoolctl's threadpool_limits
    items (the job's inputs) ──► ITEMS, listed in the script
    ─► snippet(): the script's text

Run with no arguments, the script runs over the study's items (with file
names as arguments, over those) and prints one JSON line per item,
``{"item": PATH, "value": VALUE}``, with the values ``poolside run --output
x.jsonl`` writes: the script's ``plain()`` is a copy of ``poolside.serialize.plain``'s
rules (a path as text, bytes as hex, a set sorted, numpy through ``tolist``, a
float that JSON cannot hold as text), written out so that the script needs
only the plugin and the library it calls.  An item that raises ends the script
with the traceback, as a plain loop would: the script is for the user to own.

A built-in plugin is imported from ``poolside.plugins.builtins`` (the
function lives there; nothing else of Poolside runs); a plugin file from its
folder, by name, as a tutorial imports a module next to it.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from ..spec import JobSpec
from .plan import Config
from .record import StudyResult

#: Backends by how their tutorials write them.
PROCESS_POOLS = ("processes", "process-executor")
THREAD_POOLS = ("threads", "thread-executor", "thread-per-item")
CLASSIC = {"mp-pool": "multiprocessing.Pool", "mp-thread-pool": "multiprocessing.pool.ThreadPool"}

_PLAIN = '''
def plain(value):
    """A result as JSON holds it, the way `poolside run --output x.jsonl` writes it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, PurePath):
        return os.fsdecode(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (set, frozenset)):
        try:
            return plain(sorted(value))
        except TypeError:  # mixed types: sorted as their repr
            return plain(sorted(value, key=repr))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return plain(float(value))
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars
        return plain(value.tolist())
    return str(value)


def show(item, value):
    print(json.dumps({"item": os.fsdecode(item), "value": plain(value)}, ensure_ascii=False), flush=True)
'''


class SnippetError(ValueError):
    """No script can be written for this job (the message says why)."""


def snippet(spec: JobSpec, config: Config, items: Sequence[Any], *, headline: str = "") -> str:
    """The script's text: ``spec``'s plugin and settings over ``items``, run as ``config`` says.

    ``headline``: a line for the docstring (the verdict it comes from).
    """
    from ..plugins import PluginError
    from ..plugins._task import resolve

    plugin, task = spec.bind()
    if plugin.target is None:
        raise SnippetError(f"plugin {plugin.name!r} has no importable function")
    try:
        is_async = inspect.iscoroutinefunction(resolve(plugin.target))
    except Exception as e:
        raise SnippetError(f"plugin {plugin.name!r} does not load: {PluginError(plugin.source, str(e))}") from None
    head = _header(spec, config, len(items), headline)
    imports, run_lines = _backend(config, len(items), is_async)
    if config.capped:
        imports.append("from threadpoolctl import threadpool_limits")
    body = [*_plugin_import(plugin.target), "",
            f"PARAMS = {_literal(task.kwargs)}",
            "ITEMS = [",
            *(f"    {_literal(os.fspath(i) if isinstance(i, PurePath) else i)}," for i in items),
            "]", "", ""]
    body += _task_function(plugin.takes_path, is_async, config)
    body += [_PLAIN.strip("\n"), "", "", 'if __name__ == "__main__":',
             "    items = sys.argv[1:] or ITEMS  # the files named on the command line, else the study's",
             *run_lines]
    std = ["dataclasses", "enum", "json", "math", "numbers", "os", "sys"]
    froms = ["from pathlib import Path, PurePath"]
    if is_async and config.backend != "asyncio":
        std.append("asyncio")
    for line in imports:
        if line.startswith("import "):
            std.append(line.removeprefix("import "))
        else:
            froms.append(line)
    lines = [head, "", *sorted(f"import {m}" for m in set(std)), *sorted(set(froms)), "", *body]
    return "\n".join(lines) + "\n"


def study_snippet(spec: JobSpec, result: StudyResult) -> str:
    """The script for a study's recommendation, over every item of the job (``spec``'s inputs, walked again)."""
    rec = result.recommendation
    if rec is None:
        raise SnippetError("the study recommends nothing (no configuration ran every item ok): no script to write")
    from ..words.configs import config_label

    items = list(spec.prepare().items)
    return snippet(spec, rec.config, items,
                   headline=f"Recommended: {config_label(rec.config)}, {rec.speedup:.2f}× sequential.\n{rec.why}")


def _header(spec: JobSpec, config: Config, n: int, headline: str) -> str:
    from ..words.configs import config_label

    lines = [f'"""{_doc(spec.plugin)} over {n} items on {config_label(config)}: written by '
             '`poolside compare --snippet`.', ""]
    if headline:
        lines += [_doc(headline), ""]
    lines += ["Run it as it is (python THIS_FILE.py): one JSON line per item, {\"item\": PATH, \"value\": VALUE},",
              "the values `poolside run --output x.jsonl` writes.  It needs the plugin and the library it calls,",
              "not Poolside.  `python THIS_FILE.py FILE...` runs it over those files instead.", '"""']
    return "\n".join(lines)


def _plugin_import(target: tuple) -> list[str]:
    kind, where, name = target[0], target[1], target[2]
    top = name.split(".")[0]
    if kind == "module":
        return [f"from {where} import {top}", f"function = {name}"]
    folder, file = os.path.split(where)
    stem = os.path.splitext(file)[0]
    if stem.isidentifier():  # as a tutorial imports a module that sits in a folder of the user's
        return [f"sys.path.insert(0, {_literal(folder)})",
                f"from {stem} import {top}  # noqa: E402  ({where})", f"function = {name}"]
    return ["import importlib.util  # noqa: E402",
            f"_spec = importlib.util.spec_from_file_location({_literal(stem)}, {_literal(where)})",
            "plugin = importlib.util.module_from_spec(_spec)",
            "sys.modules[_spec.name] = plugin  # its results' classes pickle by this name",
            "_spec.loader.exec_module(plugin)",
            f"function = plugin.{name}"]


def _task_function(takes_path: bool, is_async: bool, config: Config) -> list[str]:
    item = "Path(item)" if takes_path else "item"
    if is_async and config.backend == "asyncio":
        return ["async def task(item):", f"    return await function({item}, **PARAMS)", "", ""]
    call = f"asyncio.run(function({item}, **PARAMS))" if is_async else f"function({item}, **PARAMS)"
    if config.capped:  # as the threadpoolctl README writes it; the study capped each item the same way
        lines = ["def task(item):",
                 f"    with threadpool_limits(limits={config.library_threads}):  # the libraries' own threads (BLAS)",
                 f"        return {call}", "", ""]
    else:
        lines = ["def task(item):", f"    return {call}", "", ""]
    if config.backend in CLASSIC:  # imap_unordered yields in completion order: keep each item with its value
        lines += ["def item_and_value(item):", "    return item, task(item)", "", ""]
    return lines


def _chunksize(config: Config, n: int) -> str:
    """The configuration's chunk size; "auto" as Pool.map works it out (about 4 chunks per worker)."""
    if isinstance(config.chunk_size, int):
        return str(config.chunk_size)
    return str(max(1, -(-n // (config.workers * 4))))


def _backend(config: Config, n: int, is_async: bool) -> tuple[list[str], list[str]]:
    """(imports, the main block's lines) for the configuration's backend."""
    b, w = config.backend, config.workers
    if b == "sequential":
        return [], ["    for item in items:", "        show(item, task(item))"]
    if b in PROCESS_POOLS or b == "process-per-item":
        extra = ", max_tasks_per_child=1" if b == "process-per-item" else ""
        return (["from concurrent.futures import ProcessPoolExecutor"],
                [f"    with ProcessPoolExecutor(max_workers={w}{extra}) as pool:",
                 f"        for item, value in zip(items, pool.map(task, items, chunksize={_chunksize(config, n)})):",
                 "            show(item, value)"])
    if b in THREAD_POOLS:
        return (["from concurrent.futures import ThreadPoolExecutor"],
                [f"    with ThreadPoolExecutor(max_workers={w}) as pool:",
                 "        for item, value in zip(items, pool.map(task, items)):",
                 "            show(item, value)"])
    if b in CLASSIC:  # the call the study measured: map and imap in input order, else imap_unordered
        module, cls = CLASSIC[b].rsplit(".", 1)
        call = config.method if config.method in ("map", "imap") else "imap_unordered"
        return ([f"from {module} import {cls}"],
                [f"    with {cls}({w}) as pool:",
                 f"        for item, value in pool.{call}(item_and_value, items, chunksize={_chunksize(config, n)}):",
                 "            show(item, value)"])
    if b == "joblib":
        batch = repr(config.chunk_size) if isinstance(config.chunk_size, int) else '"auto"'
        return (["from joblib import Parallel, delayed"],
                [f"    results = Parallel(n_jobs={w}, batch_size={batch}, return_as=\"generator\")(",
                 "        delayed(task)(item) for item in items)",
                 "    for item, value in zip(items, results):",
                 "        show(item, value)"])
    if b == "asyncio":
        call = "await task(item)" if is_async else "await asyncio.to_thread(task, item)"
        return (["import asyncio"],
                ["    async def main():",
                 f"        limit = asyncio.Semaphore({w})  # at most {w} items in flight",
                 "",
                 "        async def one(item):",
                 "            async with limit:",
                 f"                show(item, {call})",
                 "",
                 "        await asyncio.gather(*(one(item) for item in items))",
                 "",
                 "    asyncio.run(main())"])
    if b == "dask":
        return (["from dask.distributed import Client"],
                [f"    with Client(n_workers={w}, threads_per_worker=1) as client:",
                 "        for item, future in zip(items, client.map(task, items, pure=False)):",
                 "            show(item, future.result())"])
    raise SnippetError(f"no snippet for the {b} backend")


def _doc(text: str) -> str:
    """Text safe inside the script's docstring: no backslash escapes, no closing quotes, no lone surrogates."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _literal(value: Any) -> str:
    """Python source for a setting or an item: paths as ``Path(...)``, the rest as ``repr`` writes it."""
    if isinstance(value, PurePath):
        return f"Path({os.fspath(value)!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)
