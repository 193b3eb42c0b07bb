"""What a plugin is: a plain function, described by its signature.

    def thumbnail(path: Path,                                   # the item
                  size: Annotated[int, Range(16, 4096)] = 256,  # a setting
                  format: Literal["same", "png"] = "same"):     # a choice
        '''Shrink an image.                  <- the one-line description

        Args:
            size: longest side in pixels.    <- help text
        '''

    function --introspect()--> Plugin(name, description, bound, accepts, params)
    Plugin.bind({"size": "128"}) --Param.convert--> BoundTask  (picklable)

Everything a form or a ``--param`` needs is read from the signature: the type
from the hint, a range from :class:`Range` in ``typing.Annotated``, choices from
``typing.Literal``, help from a plain string in ``Annotated`` or from the
docstring's parameter section.  The :func:`plugin` decorator adds what a
signature cannot say (name, description, bound, accepts, result columns)
without wrapping the function, so it stays a plain, importable function.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

from ._task import BoundTask, TaskRef


class _Required:
    """The default of a parameter that has none (a singleton, like ``None``)."""

    _instance: _Required | None = None

    def __new__(cls) -> _Required:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REQUIRED"

    def __reduce__(self) -> str:  # pickles as the module-level singleton
        return "REQUIRED"


REQUIRED: Any = _Required()

BOUNDS = ("cpu", "io", "mixed")
#: The types a setting may have.  A form has a widget for each; a CLI string
#: converts to each.  Anything richer belongs inside the plugin.
TYPES: tuple[type, ...] = (int, float, bool, str, Path)
_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false",
               str: "text", Path: "a path"}
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class ParamError(ValueError):
    """A setting value that does not fit its parameter (names both)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"parameter {name!r}: {message}")
        self.name = name


class PluginError(Exception):
    """A plugin that could not be loaded or used, and why.

    ``source`` says where it came from (a file path, ``built-in``, ``entry point
    DIST``); ``reason`` says what is wrong, in one line; ``name`` is the
    plugin's (or function's) name when it is known.
    """

    def __init__(self, source: str, reason: str, name: str | None = None) -> None:
        super().__init__(source, reason)
        self.source = source
        self.reason = reason
        self.name = name

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class Range:
    """``Annotated[int, Range(1, 100)]``: inclusive bounds, either may be ``None``."""

    minimum: float | None = None
    maximum: float | None = None


class Output:
    """Marks the setting a plugin writes its results into: ``out: Annotated[Path, Output] = Path("out")``.

    A comparison runs the plugin many times over the same items; it points the
    marked settings at a scratch folder that it deletes afterwards, so it never
    writes into the user's output folder.  (A class used bare, like ``Range``'s
    instances: ``Output`` and ``Output()`` both work.)
    """


@dataclass(frozen=True)
class Param:
    """One setting of a plugin: everything a form field or ``--param`` needs."""

    name: str
    type: type
    default: Any = REQUIRED
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    #: The plugin writes its results here (``Annotated[Path, Output]``).
    output: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        """``int, 16..4096, default 256`` - the short form for a list or tooltip."""
        parts = [self.type.__name__]
        if self.choices is not None:
            parts = [" | ".join(str(c) for c in self.choices)]
        elif self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else _num(self.minimum)
            hi = "" if self.maximum is None else _num(self.maximum)
            parts.append(f"{lo}..{hi}")
        parts.append("required" if self.required else f"default {_show(self.default)}")
        return ", ".join(parts)

    def convert(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type, checked; raise :class:`ParamError`.

        ``value`` is either text (a ``--param`` value, a form field) or already
        a value of a fitting type.
        """
        if value is REQUIRED:
            raise ParamError(self.name, "a value is required")
        converted = self._to_type(value)
        if self.choices is not None and converted not in self.choices:
            options = ", ".join(str(c) for c in self.choices)
            raise ParamError(self.name, f"{_show(value)} is not one of: {options}")
        if self.minimum is not None and converted < self.minimum:
            raise ParamError(self.name, f"{_show(value)} is below the minimum {_num(self.minimum)}")
        if self.maximum is not None and converted > self.maximum:
            raise ParamError(self.name, f"{_show(value)} is above the maximum {_num(self.maximum)}")
        return converted

    def _to_type(self, value: Any) -> Any:
        t = self.type
        expected = f"expected {_TYPE_WORDS.get(t, t.__name__)}, got {_show(value)}"
        if isinstance(value, str) and t is not str:
            text = value.strip()
            if t is bool:
                if text.lower() in _TRUE:
                    return True
                if text.lower() in _FALSE:
                    return False
                raise ParamError(self.name, f"{expected} (use true/false, yes/no, 1/0)")
            if t is Path:
                if not text:
                    raise ParamError(self.name, "expected a path, got an empty value")
                return Path(os.path.expanduser(value))
            try:
                number = t(text)  # int("1_000") and float("1e3") both work
            except ValueError:
                raise ParamError(self.name, expected) from None
            if t is float and not math.isfinite(number):
                raise ParamError(self.name, f"{expected} (a finite number)")
            return number
        # A typed value (a form's spin box, a Python caller).  bool is an int
        # subclass, but True as a width is a bug, not a number.
        if t is bool and isinstance(value, bool):
            return value
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if t is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ParamError(self.name, f"{expected} (a finite number)")
            return float(value)
        if t is str and isinstance(value, str):
            return value
        if t is Path and isinstance(value, (str, os.PathLike)):
            return Path(os.path.expanduser(os.fspath(value)))
        raise ParamError(self.name, expected)


@dataclass(frozen=True)
class Plugin:
    """A task the engine can run over items, with its settings described."""

    name: str
    description: str
    bound: str
    accepts: tuple[str, ...]
    params: tuple[Param, ...]
    source: str
    #: Result columns the plugin's dict values have, when it declares them
    #: (tables and CSV can then be laid out before the first result).
    columns: tuple[str, ...] = ()
    #: Where a worker finds the function (module or file, and its name).
    target: TaskRef | None = field(default=None, repr=False, compare=False)
    #: The item parameter is a ``Path``: text items are turned into paths.
    takes_path: bool = field(default=False, repr=False, compare=False)
    #: What running it does beyond writing its outputs (``fetch``: downloads), or "".
    side_effects: str = ""
    #: ``output_name(item, **settings) -> name``: the name an item's output gets in the first
    #: :class:`Output` folder, before any collision policy (a preview shows it); None: not said.
    output_name: Callable[..., str] | None = field(default=None, repr=False, compare=False)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The settings marked :class:`Output`: where the plugin writes."""
        return tuple(p.name for p in self.params if p.output)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(name, f"unknown parameter for plugin {self.name!r} "
                               f"(it has: {_names(self.params)})")

    def bind(self, values: Mapping[str, Any] = types.MappingProxyType({})) -> BoundTask:
        """Check ``values`` and return the task the engine runs: ``task(item)``.

        Unknown names, missing required values and values that do not fit raise
        :class:`ParamError`.  Relative paths are made absolute here, so that a
        worker with another working directory writes where the user meant.
        """
        for key in values:
            self.param(key)  # raises for an unknown name
        kwargs: dict[str, Any] = {}
        for p in self.params:
            if p.name in values:
                value = p.convert(values[p.name])
            elif p.required:
                raise ParamError(p.name, f"plugin {self.name!r} needs a value for it")
            else:
                value = p.default
            if isinstance(value, Path):
                value = Path(os.path.abspath(value))
            kwargs[p.name] = value
        if self.target is None:
            raise PluginError(self.source, f"plugin {self.name!r} has no importable function")
        return BoundTask(self.target, kwargs, self.name, self.takes_path)


# -- the decorator -----------------------------------------------------------

@dataclass(frozen=True)
class PluginMeta:
    """What :func:`plugin` attaches to a function as ``__poolside__``."""

    name: str | None = None
    description: str | None = None
    bound: str = "mixed"
    accepts: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    side_effects: str = ""
    output_name: Callable[..., str] | None = None


def plugin(fn: Callable | None = None, *, name: str | None = None,
           description: str | None = None, bound: str = "mixed",
           accepts: tuple[str, ...] | list[str] | str = (),
           columns: tuple[str, ...] | list[str] = (), side_effects: str = "",
           output_name: Callable[..., str] | None = None) -> Any:
    """Mark a function as a plugin and say what its signature cannot.

    Use bare (``@plugin``) or with metadata (``@plugin(bound="cpu",
    accepts=("*.png",))``).  ``side_effects`` says, in a few words, what a run
    does beyond writing its :class:`Output` settings (``"downloads every listed
    URL"``): a comparison, which repeats the run, warns and asks first.
    ``output_name(item, **settings)`` returns the name an item's output will
    get in the plugin's first :class:`Output` folder, without doing the work:
    ``poolside run --dry-run`` and the window's Preview list the names and the
    collisions.  The function is returned unchanged.
    """
    if isinstance(accepts, str):
        accepts = (accepts,)
    meta = PluginMeta(name, description, bound, tuple(accepts), tuple(columns), side_effects, output_name)

    def mark(f: Callable) -> Callable:
        f.__poolside__ = meta  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def is_marked(obj: Any) -> bool:
    return isinstance(getattr(obj, "__poolside__", None), PluginMeta)


# -- introspection -------------------------------------------------------------

def from_function(fn: Callable, *, source: str, target: TaskRef | None = None) -> Plugin:
    """Describe ``fn`` as a :class:`Plugin`; raise :class:`PluginError` if it cannot be one.

    ``target`` says how a worker finds ``fn`` again; by default its module and
    qualified name (right for functions in importable modules).
    """
    label = getattr(fn, "__name__", repr(fn))
    if not callable(fn) or not (inspect.isfunction(fn) or inspect.isbuiltin(fn)):
        raise PluginError(source, f"{label!r} is not a function", label)
    meta = getattr(fn, "__poolside__", None)
    if not isinstance(meta, PluginMeta):
        meta = PluginMeta()
    name = meta.name or fn.__name__
    if not _NAME_RE.match(name):
        raise PluginError(source, f"{name!r} is not a usable plugin name "
                                  "(letters, digits, '_', '.', '-')", name)

    def bad(reason: str) -> PluginError:
        return PluginError(source, f"plugin {name!r}: {reason}", name)

    if meta.bound not in BOUNDS:
        raise bad(f"bound must be one of {', '.join(BOUNDS)}, not {meta.bound!r}")
    if not all(isinstance(a, str) and a for a in meta.accepts):
        raise bad("accepts must be glob patterns such as '*.png'")

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as e:
        raise bad(f"cannot read its signature: {e}") from None
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as e:  # a NameError in a string annotation, typically
        raise bad(f"cannot resolve its type hints: {type(e).__name__}: {e}") from None

    parameters = list(sig.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not parameters or parameters[0].kind not in positional:
        raise bad("its first parameter must take the item, e.g. def f(path, ...)")
    item_hint = hints.get(parameters[0].name)
    if typing.get_origin(item_hint) is typing.Annotated:
        item_hint = typing.get_args(item_hint)[0]
    takes_path = isinstance(item_hint, type) and issubclass(item_hint, PurePath)
    doc = inspect.getdoc(fn) or ""
    helps = _docstring_params(doc)
    params = []
    for p in parameters[1:]:
        if p.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise bad(f"setting {p.name!r} must not be positional-only")
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise bad(f"*{p.name} / **{p.name} cannot be settings; name each one")
        params.append(_param(p, hints.get(p.name, inspect.Parameter.empty),
                             helps.get(p.name, ""), bad))
    description = meta.description or _first_line(doc) or f"{name} (no description)"
    if target is None:
        qualname = getattr(fn, "__qualname__", fn.__name__)
        if "<locals>" in qualname or fn.__module__ in (None, "__main__"):
            raise bad("it must be a module-level function in an importable module "
                      "(a worker process imports it by name)")
        target = ("module", fn.__module__, qualname)
    return Plugin(name=name, description=description.strip(), bound=meta.bound,
                  accepts=meta.accepts, params=tuple(params), source=source,
                  columns=meta.columns, target=target, takes_path=takes_path,
                  side_effects=meta.side_effects, output_name=meta.output_name)


def _param(p: inspect.Parameter, hint: Any, help_text: str,
           bad: Callable[[str], PluginError]) -> Param:
    default = REQUIRED if p.default is inspect.Parameter.empty else p.default
    minimum = maximum = None
    choices: tuple | None = None
    output = False
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        for extra in extras:
            if extra is Output or isinstance(extra, Output):
                output = True
            elif isinstance(extra, Range):
                minimum, maximum = extra.minimum, extra.maximum
            elif isinstance(extra, str) and not help_text:
                help_text = extra
    if hint is inspect.Parameter.empty:
        # No hint: the default says it; without one either, it is text.
        hint = str if default is REQUIRED else type(default)
        if isinstance(default, PurePath):
            hint = Path
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        kinds = {type(c) for c in choices}
        if kinds == {str}:
            hint = str
        elif kinds == {int}:
            hint = int
        else:
            raise bad(f"setting {p.name!r}: Literal choices must be all text or all integers")
    if hint in (PurePath, os.PathLike) or (isinstance(hint, type) and issubclass(hint, PurePath)):
        hint = Path
    if hint not in TYPES:
        words = ", ".join(t.__name__ for t in TYPES)
        raise bad(f"setting {p.name!r} has type {_type_name(hint)}; "
                  f"a setting must be one of {words}, or a Literal of choices")
    if (minimum is not None or maximum is not None) and hint not in (int, float):
        raise bad(f"setting {p.name!r}: a Range needs an int or float setting")
    if output and hint is not Path:
        raise bad(f"setting {p.name!r}: Output marks a Path setting (the folder or file written)")
    param = Param(p.name, hint, default, choices, minimum, maximum, " ".join(help_text.split()), output)
    if default is not REQUIRED:
        try:
            param = Param(p.name, hint, param.convert(default), choices, minimum, maximum,
                          param.help, output)
        except ParamError as e:
            raise bad(f"its default does not fit: {e}") from None
    return param


# Google ("Args:"), NumPy ("Parameters\n----------") and Sphinx (":param x:")
# docstrings all say "this name: this text"; one tolerant reader covers them.
_SECTION_RE = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Settings)\s*:?\s*$", re.I)
_SECTION_END_RE = re.compile(r"^\s*(Returns?|Yields?|Raises?|Examples?|Notes?|See Also)\s*:?\s*$", re.I)
_ITEM_RE = re.compile(r"^(\s*)(\w+)(?:\s*\([^)]*\))?(\s*):\s*(.*)$")
_SPHINX_RE = re.compile(r"^\s*:param\s+(?:[\w\[\], ]+\s+)?(\w+)\s*:\s*(.*)$")


def _docstring_params(doc: str) -> dict[str, str]:
    helps: dict[str, str] = {}
    current: str | None = None
    indent = 0
    in_section = False
    for line in doc.splitlines():
        m = _SPHINX_RE.match(line)
        if m:
            current, indent = m.group(1), len(line) - len(line.lstrip())
            helps[current] = m.group(2).strip()
            continue
        if _SECTION_RE.match(line):
            in_section, current = True, None
            continue
        if _SECTION_END_RE.match(line) or re.match(r"^\s*:(returns?|raises?|rtype)", line):
            in_section, current = False, None
            continue
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        m = _ITEM_RE.match(line)
        if in_section and m and (current is None or len(m.group(1)) <= indent):
            current, indent = m.group(2), len(m.group(1))
            # NumPy style ("name : type") puts the type after the colon and
            # the text on the lines below; Google style puts the text there.
            helps[current] = "" if m.group(3) else m.group(4).strip()
        elif current is not None and len(line) - len(line.lstrip()) > indent:
            helps[current] = f"{helps[current]} {line.strip()}".strip()
        else:
            current = None
    return helps


def _first_line(doc: str) -> str:
    for line in doc.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _names(params: tuple[Param, ...]) -> str:
    return ", ".join(p.name for p in params) or "no parameters"


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _show(value: Any) -> str:
    if isinstance(value, PurePath):
        return repr(str(value))
    return repr(value)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or repr(hint)
