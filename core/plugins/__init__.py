"""Task plugins: plain functions the engine runs over items, described for forms and CLIs.

    from . import discover, get_plugin
    plugin = get_plugin("thumbnail")            # or "my_tasks.py:resize"
    task = plugin.bind({"size": "128"})         # checked, converted, picklable
    job = poolside.run(task, paths, backend="processes", bound=plugin.bound)

Writing one::

    from pathlib import Path
    from typing import Annotated, Literal
    from . import Range, plugin

    @plugin(bound="cpu", accepts=("*.png",))
    def invert(path: Path, out: Path = Path("inverted"),
               strength: Annotated[int, Range(0, 100)] = 100,
               mode: Literal["rgb", "luma"] = "rgb") -> dict:
        '''Invert the colours of images.

        Args:
            strength: how far to invert, in percent.
        '''
        with open_input(path) as f:                      # never blocks on a FIFO
            ...
        with AtomicOutput(out, path.name, "rename", protect=path) as target:
            ...                                           # appears whole, or not at all
        return {"pixels": n}                              # a dict: one column per key

The first parameter takes the item; every other one is a setting, typed by its
hint (int, float, bool, str, Path; ``Literal`` for choices; ``Range`` and a help
string in ``Annotated``), help also from the docstring's Args section.  In a
file or module, the functions marked ``@plugin`` are its plugins; if none is
marked, every public function defined there is.

Modules (one responsibility each)::

    base.py       Param, Plugin, Range, @plugin, reading a function's signature
    discovery.py  built-ins, entry points ("poolside.plugins"), user files
    _task.py      the picklable bound task and how a worker imports the function
    _files.py     safe reading (never open a FIFO) and atomic, collision-aware writing
    builtins/     the plugins that ship with Poolside

Names are imported lazily, as in :mod:`core`, so that a worker unpickling a
bound task imports ``_task`` and the plugin's own module, nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "REQUIRED": "poolside.plugins.base",
    "Param": "poolside.plugins.base",
    "Plugin": "poolside.plugins.base",
    "ParamError": "poolside.plugins.base",
    "PluginError": "poolside.plugins.base",
    "Range": "poolside.plugins.base",
    "Output": "poolside.plugins.base",
    "plugin": "poolside.plugins.base",
    "from_function": "poolside.plugins.base",
    "discover": "poolside.plugins.discovery",
    "load_plugin_file": "poolside.plugins.discovery",
    "get_plugin": "poolside.plugins.discovery",
    "ENTRY_POINT_GROUP": "poolside.plugins.discovery",
    "BoundTask": "poolside.plugins._task",
    "InputError": "poolside.plugins._files",
    "OutputError": "poolside.plugins._files",
    "Collision": "poolside.plugins._files",
    "AtomicOutput": "poolside.plugins._files",
    "open_input": "poolside.plugins._files",
    "check_input": "poolside.plugins._files",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from ._files import AtomicOutput, Collision, InputError, OutputError, check_input, open_input
    from ._task import BoundTask
    from .base import REQUIRED, Output, Param, ParamError, Plugin, PluginError, Range, from_function, plugin
    from .discovery import ENTRY_POINT_GROUP, discover, get_plugin, load_plugin_file


__getattr__ = lazy_exports(__name__, _EXPORTS)
