"""The plugin layer: Param conversion, reading signatures, binding, discovery, user files."""

from __future__ import annotations

import os
import pickle
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Literal

import pytest

from poolside import run
from poolside.plugins import (
    REQUIRED,
    Param,
    ParamError,
    PluginError,
    Range,
    discover,
    from_function,
    get_plugin,
    load_plugin_file,
    plugin,
)
from tests import PLUGIN_FILES, ROOT

FILES = PLUGIN_FILES
BUILTIN_NAMES = ["sha256", "thumbnail", "gzip", "wordcount", "primes", "latency", "fetch"]


# -- Param.convert --------------------------------------------------------------

def test_convert_text_to_each_type():
    assert Param("n", int).convert(" 1_000 ") == 1000
    assert Param("x", float).convert("1e3") == 1000.0
    assert Param("s", str).convert(" keep spaces ") == " keep spaces "
    assert Param("p", Path).convert("~/x") == Path(os.path.expanduser("~/x"))
    for text in ("true", "Yes", "1", "on"):
        assert Param("b", bool).convert(text) is True
    for text in ("false", "NO", "0", "off"):
        assert Param("b", bool).convert(text) is False


def test_convert_typed_values():
    assert Param("n", int).convert(5) == 5
    assert Param("n", int).convert(5.0) == 5
    assert Param("x", float).convert(2) == 2.0
    assert Param("p", Path).convert(Path("a")) == Path("a")
    assert Param("b", bool).convert(False) is False


@pytest.mark.parametrize("param, value, words", [
    (Param("size", int), "abc", "expected an integer, got 'abc'"),
    (Param("size", int), True, "expected an integer"),
    (Param("size", int), 2.5, "expected an integer"),
    (Param("rate", float), "fast", "expected a number"),
    (Param("rate", float), "nan", "finite"),
    (Param("flag", bool), "maybe", "true/false"),
    (Param("out", Path), "  ", "empty"),
    (Param("size", int, minimum=1, maximum=10), "0", "below the minimum 1"),
    (Param("size", int, minimum=1, maximum=10), 11, "above the maximum 10"),
    (Param("mode", str, choices=("a", "b")), "c", "not one of: a, b"),
    (Param("level", int, choices=(1, 2)), "3", "not one of: 1, 2"),
    (Param("name", str), REQUIRED, "required"),
])
def test_convert_rejects_with_a_message_naming_the_parameter(param, value, words):
    with pytest.raises(ParamError) as info:
        param.convert(value)
    assert f"parameter {param.name!r}" in str(info.value)
    assert words in str(info.value)
    assert info.value.name == param.name


def test_describe_is_short_and_readable():
    assert Param("size", int, 256, None, 8, 8192).describe() == "int, 8..8192, default 256"
    assert Param("mode", str, "a", ("a", "b")).describe() == "a | b, default 'a'"
    assert Param("name", str).describe() == "str, required"


# -- reading a function -----------------------------------------------------------

@plugin(name="demo", bound="cpu", accepts="*.png", columns=("a",))
def demo(path: Path,
         size: Annotated[int, Range(1, 100), "the size, in pixels"] = 10,
         mode: Literal["fast", "best"] = "fast",
         level: Literal[1, 2, 3] = 2,
         ratio: float = 0.5,
         out: Path = Path("out"),
         verbose: bool = False,
         label="x",
         *, name: str):
    """Do a demo thing.

    More text that is not the description.

    Args:
        ratio: how much,
            over two lines.
        label (str): a label.
    """


def google_doc(item, a: int = 1, b: str = "", c: int = 0):
    """Google style.

    Args:
        a: the a.
        b (str): the b.
        c: Width

    Returns:
        nothing.
    """


def numpy_doc(item, a: int = 1, b: str = ""):
    """NumPy style.

    Parameters
    ----------
    a : int
        the a,
        continued.
    b : str
        the b.
    """


def sphinx_doc(item, a: int = 1, b: str = ""):
    """Sphinx style.

    :param a: the a.
    :param str b: the b.
    :returns: nothing.
    """


def test_signature_becomes_params():
    p = from_function(demo, source="test")
    assert (p.name, p.description, p.bound, p.accepts, p.columns) == (
        "demo", "Do a demo thing.", "cpu", ("*.png",), ("a",))
    params = {q.name: q for q in p.params}
    assert list(params) == ["size", "mode", "level", "ratio", "out", "verbose", "label", "name"]
    assert params["size"] == Param("size", int, 10, None, 1, 100, "the size, in pixels")
    assert params["mode"].choices == ("fast", "best") and params["mode"].type is str
    assert params["level"].choices == (1, 2, 3) and params["level"].type is int
    assert params["ratio"].help == "how much, over two lines."
    assert params["out"].type is Path and params["out"].default == Path("out")
    assert params["verbose"].type is bool
    assert params["label"].type is str and params["label"].help == "a label."
    assert params["name"].required and params["name"].type is str


@pytest.mark.parametrize("fn", [google_doc, numpy_doc, sphinx_doc])
def test_help_from_each_docstring_style(fn):
    helps = {q.name: q.help for q in from_function(fn, source="test").params}
    assert helps["a"].startswith("the a")
    assert helps["b"] == "the b."
    if fn is numpy_doc:
        assert helps["a"] == "the a, continued."
    if fn is google_doc:
        assert helps["c"] == "Width"  # one word is help text, not a NumPy type


def test_undecorated_function_gets_defaults():
    p = from_function(google_doc, source="test")
    assert (p.name, p.bound, p.accepts, p.description) == ("google_doc", "mixed", (), "Google style.")


def test_a_local_function_cannot_reach_a_worker():
    def local(item):
        return item

    with pytest.raises(PluginError, match="module-level"):
        from_function(local, source="test")


# -- bind -----------------------------------------------------------------------------

def test_bind_converts_checks_and_pickles():
    p = from_function(demo, source="test")
    task = p.bind({"size": "20", "mode": "best", "name": "n", "out": "rel/dir"})
    assert task.kwargs["size"] == 20 and task.kwargs["mode"] == "best"
    assert task.kwargs["out"] == Path(os.path.abspath("rel/dir"))  # absolute for workers
    assert task.kwargs["ratio"] == 0.5
    clone = pickle.loads(pickle.dumps(task))
    assert clone.kwargs == task.kwargs and clone.target == task.target


def test_bind_rejects_unknown_missing_and_bad_values():
    p = from_function(demo, source="test")
    with pytest.raises(ParamError, match="'nope': unknown parameter for plugin 'demo'"):
        p.bind({"nope": 1, "name": "n"})
    with pytest.raises(ParamError, match="'name': plugin 'demo' needs a value"):
        p.bind({})
    with pytest.raises(ParamError, match="'size'.*above the maximum 100"):
        p.bind({"size": "1000", "name": "n"})


def test_builtin_task_pickles_small():
    task = get_plugin("sha256").bind()
    data = pickle.dumps(task)
    assert len(data) < 300  # a reference and the settings, never the function's code
    assert pickle.loads(data)(FILES / "my_tasks.py")["bytes"] == (FILES / "my_tasks.py").stat().st_size


# -- discovery ----------------------------------------------------------------------------

def test_discover_lists_every_builtin_without_errors():
    plugins, errors = discover()
    assert errors == []
    assert [p.name for p in plugins][: len(BUILTIN_NAMES)] == BUILTIN_NAMES
    for p in plugins:
        assert p.source == "built-in" and p.description and p.bound in ("cpu", "io", "mixed")
        assert "\n" not in p.description


def test_builtin_modules_do_not_import_pillow():
    # A worker that runs sha256 must not pay for Pillow: it is imported inside thumbnail.
    code = ("import sys, pickle; from poolside.plugins import get_plugin; "
            "pickle.loads(pickle.dumps(get_plugin('sha256').bind()))('pyproject.toml'); "
            "print('PIL' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """An installed package with entry points: good ones, broken ones, a name clash."""
    (tmp_path / "fake_ep_tasks.py").write_text(textwrap.dedent('''
        from poolside.plugins import plugin

        @plugin(bound="io")
        def upper(item: str) -> str:
            """Upper-case the item."""
            return str(item).upper()

        @plugin(name="sha256")
        def clash(item):
            """Takes a built-in's name."""

        @plugin
        def bad(item, values: dict = None):
            """A dict is not a setting."""
    '''))
    (tmp_path / "fake_ep_more.py").write_text(textwrap.dedent('''
        def count_chars(item, extra: int = 0):
            """Characters in the item."""
            return len(str(item)) + extra
    '''))
    info = tmp_path / "fake_poolside_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-poolside-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""
        [poolside.plugins]
        upper = fake_ep_tasks:upper
        clash = fake_ep_tasks:clash
        bad = fake_ep_tasks:bad
        more = fake_ep_more
        missing = fake_ep_no_such_module:thing
        [console_scripts]
        unrelated = fake_ep_tasks:upper
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("fake_ep_tasks", "fake_ep_more"):
        sys.modules.pop(name, None)


def test_entry_points_load_and_broken_ones_are_reported(fake_distribution):
    plugins, errors = discover()
    by_name = {p.name: p for p in plugins}
    assert by_name["upper"].source == "entry point fake-poolside-plugins"
    assert by_name["upper"].bound == "io"
    assert "count_chars" in by_name  # a module entry point: its functions
    assert by_name["sha256"].source == "built-in"  # the built-in keeps its name
    reasons = {e.name: e.reason for e in errors}
    assert set(reasons) == {"sha256", "bad", "missing"}
    assert "already taken" in reasons["sha256"]
    assert "dict" in reasons["bad"]
    assert "ModuleNotFoundError" in reasons["missing"]
    assert all(e.source == "entry point fake-poolside-plugins" for e in errors)
    # Every built-in still loaded.
    assert set(BUILTIN_NAMES) <= set(by_name)


def test_entry_point_plugin_runs_and_broken_one_is_explained(fake_distribution):
    task = get_plugin("upper").bind()
    outcomes = list(run(task, ["a", "b"], backend="threads", workers=2, ordered=True))
    assert [o.value for o in outcomes] == ["A", "B"]
    with pytest.raises(PluginError, match="fake_ep_no_such_module"):
        get_plugin("missing")


# -- user files ----------------------------------------------------------------------------------

def test_plugin_file_marked_functions_only():
    plugins, errors = load_plugin_file(FILES / "my_tasks.py")
    assert errors == []
    assert sorted(p.name for p in plugins) == ["double", "shout", "slow_on", "wrap"]
    shout = next(p for p in plugins if p.name == "shout")
    assert shout.source == str(FILES / "my_tasks.py")
    assert shout.accepts == ("*.txt",) and shout.bound == "cpu"
    assert shout.params[0] == Param("marks", int, 1, None, 1, 5, "how many exclamation marks")
    double = next(p for p in plugins if p.name == "double")
    assert double.description == "Multiply a number." and double.params[0].help == "what to multiply by."


def test_plugin_file_without_marks_takes_public_functions():
    plugins, errors = load_plugin_file(FILES / "plain_functions.py")
    assert errors == []
    assert sorted(p.name for p in plugins) == ["name_length", "reverse_name"]


@pytest.mark.parametrize("name, words", [
    ("broken_syntax.py", "SyntaxError"),
    ("broken_import.py", "ModuleNotFoundError: No module named 'poolside_no_such_module_for_tests'"),
    ("no_such_file.py", "no such file"),
])
def test_broken_plugin_file_is_a_clear_error(name, words):
    with pytest.raises(PluginError) as info:
        load_plugin_file(FILES / name)
    assert words in str(info.value)
    assert info.value.source == str(FILES / name)
    assert "\n" not in str(info.value)


def test_bad_signatures_are_reported_and_the_good_one_loads():
    plugins, errors = load_plugin_file(FILES / "bad_signatures.py")
    assert [p.name for p in plugins] == ["good"]
    reasons = {e.name: e.reason for e in errors}
    assert set(reasons) == {"no_item", "star_args", "list_setting", "default_out_of_range",
                            "bad_bound", "unresolvable"}
    assert "first parameter must take the item" in reasons["no_item"]
    assert "*rest" in reasons["star_args"]
    assert "type list" in reasons["list_setting"]
    assert "default does not fit" in reasons["default_out_of_range"]
    assert "bound must be one of" in reasons["bad_bound"]
    assert "NoSuchType" in reasons["unresolvable"]


def test_get_plugin_specs():
    assert get_plugin("sha256").source == "built-in"
    assert get_plugin(f"{FILES / 'my_tasks.py'}:shout").name == "shout"
    assert get_plugin(f"{FILES / 'my_tasks.py'}:first_line").name == "first_line"  # named: allowed
    with pytest.raises(PluginError, match="no plugin named 'nope'.*available: sha256"):
        get_plugin("nope")
    with pytest.raises(PluginError, match="has 2 plugins"):
        get_plugin(str(FILES / "plain_functions.py"))
    with pytest.raises(PluginError, match="no function 'nope'"):
        get_plugin(f"{FILES / 'my_tasks.py'}:nope")
    with pytest.raises(PluginError, match="'no_item'.*first parameter"):
        get_plugin(f"{FILES / 'bad_signatures.py'}:no_item")


def test_plugin_file_reloads_after_an_edit(tmp_path):
    file = tmp_path / "editable.py"
    file.write_text("def task(item):\n    return 1\n")
    first = get_plugin(f"{file}:task").bind()
    assert first("x") == 1
    file.write_text("def task(item):\n    return 2\n")
    os.utime(file, ns=(1, 1))  # a new version, whatever the clock's resolution
    second = get_plugin(f"{file}:task").bind()
    assert second("x") == 2


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_plugin_file_runs_on_each_backend(backend, tmp_path):
    for name, text in [("a.txt", "hello there\nsecond"), ("b.txt", "Quiet please")]:
        (tmp_path / name).write_text(text)
    items = [tmp_path / "a.txt", tmp_path / "b.txt"]
    shout = get_plugin(f"{FILES / 'my_tasks.py'}:shout").bind({"marks": "3"})
    wrap = get_plugin(f"{FILES / 'my_tasks.py'}:wrap").bind()
    outcomes = list(run(shout, items, backend=backend, workers=2, ordered=True))
    assert [o.value["text"] for o in outcomes] == ["HELLO THERE!!!", "QUIET PLEASE!!!"]
    if backend == "processes":
        assert all(o.value["pid"] != os.getpid() for o in outcomes)
    # A value of the file's own class crosses back to the parent intact.
    outcomes = list(run(wrap, items, backend=backend, workers=2, ordered=True))
    assert [o.status for o in outcomes] == ["ok", "ok"], [o.error for o in outcomes]
    assert [type(o.value).__name__ for o in outcomes] == ["Shouted", "Shouted"]
    assert [o.value.text for o in outcomes] == ["hello there", "Quiet please"]


def test_text_items_become_paths_for_path_plugins(tmp_path):
    # A window may hold its files as text: plugins that take a Path still get one,
    # and the guard against FIFOs and folders still runs.
    (tmp_path / "a.txt").write_text("one two")
    task = get_plugin("wordcount").bind()
    outcomes = list(run(task, [str(tmp_path / "a.txt"), str(tmp_path)], backend="threads",
                        ordered=True))
    assert outcomes[0].value["words"] == 2
    assert outcomes[1].status == "failed" and outcomes[1].error.message == "a directory, not a file"
    assert get_plugin("latency").bind().as_path is False  # its items are anything


def test_plugin_file_runs_on_spawned_workers(tmp_path):
    (tmp_path / "a.txt").write_text("spawned")
    shout = get_plugin(f"{FILES / 'my_tasks.py'}:shout").bind()
    [o] = run(shout, [tmp_path / "a.txt"], backend="processes", workers=1,
              backend_options={"method": "spawn"})
    assert o.ok and o.value["text"] == "SPAWNED!", o.error
