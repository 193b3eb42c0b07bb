"""The winner as code: each backend family's script runs without Poolside and prints poolside run's values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from poolside import run
from poolside.serialize import outcome_record
from poolside.spec import JobSpec
from poolside.study.plan import Config
from poolside.study.snippet import SnippetError, snippet
from tests import ROOT

PLUGINS = ROOT / "tests" / "plugin_files"
SAMPLES = ROOT / "core" / "resources" / "samples"
PARAMS = {"algorithm": "md5", "head": "4096"}


def samples() -> list[str]:
    from poolside.resources import samples as folder

    with folder() as f:
        return sorted(str(p) for p in Path(f).rglob("*") if p.is_file())[:6]


def expected(spec: JobSpec, items: list[str]) -> dict[str, object]:
    prepared = spec.replace(paths=tuple(items), recursive=False).prepare()
    job = run(prepared.task, list(prepared.items), backend="threads", workers=2)
    return {r["item"]: r["value"] for r in map(outcome_record, job)}


def printed(script: str, tmp_path: Path, *, isolated: bool, args: tuple[str, ...] = ()) -> dict[str, object]:
    path = tmp_path / "winner.py"
    path.write_text(script, encoding="utf-8")
    # -S: no site-packages, so no Poolside: the script must not need it.
    flags = ["-S", "-I"] if isolated else ["-I"]
    done = subprocess.run([sys.executable, *flags, str(path), *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {line["item"]: line["value"] for line in lines}


@pytest.mark.parametrize(("backend", "chunk", "method"), [
    ("sequential", "auto", None), ("threads", "auto", None), ("processes", 2, None),
    ("process-per-item", "auto", None), ("mp-pool", "auto", None), ("mp-pool", 2, "map"),
    ("mp-thread-pool", 3, "imap"), ("process-executor", "auto", None), ("asyncio", "auto", None),
])
def test_the_script_of_each_family_prints_what_poolside_run_gives(backend: str, chunk: int | str, method: str | None,
                                                                  tmp_path: Path) -> None:
    items = samples()
    spec = JobSpec(f"{PLUGINS / 'snippet_tasks.py'}:digest", paths=tuple(items), params=PARAMS)
    script = snippet(spec, Config(backend, 2, chunk, method), items, headline='a "quoted""" why \\ and more')
    assert "from poolside" not in script and "import poolside" not in script
    assert printed(script, tmp_path, isolated=True) == expected(spec, items)


def test_files_named_on_the_command_line_replace_the_studys(tmp_path: Path) -> None:
    items = samples()
    spec = JobSpec(f"{PLUGINS / 'snippet_tasks.py'}:digest", paths=tuple(items), params=PARAMS)
    script = snippet(spec, Config("processes", 2), items)
    chosen = items[1:3]
    assert printed(script, tmp_path, isolated=True, args=tuple(chosen)) == expected(spec, chosen)


def test_joblib_and_a_builtin_plugin(tmp_path: Path) -> None:
    pytest.importorskip("joblib")
    items = samples()
    spec = JobSpec("sha256", paths=tuple(items), params={"chunk_kb": "64"})
    script = snippet(spec, Config("joblib", 2, "auto"), items)
    assert "from poolside.plugins.builtins.hashing import sha256" in script
    assert printed(script, tmp_path, isolated=False) == expected(spec, items)


@pytest.mark.parametrize("backend", ["asyncio", "threads"])
def test_an_async_plugin_is_awaited(backend: str, tmp_path: Path) -> None:
    items = samples()
    spec = JobSpec(f"{PLUGINS / 'snippet_tasks.py'}:waited_name", paths=tuple(items), params={"ms": "2"})
    script = snippet(spec, Config(backend, 3), items)
    assert printed(script, tmp_path, isolated=True) == expected(spec, items)


def test_capped_library_threads_run_under_threadpoolctl(tmp_path: Path) -> None:
    items = samples()
    spec = JobSpec(f"{PLUGINS / 'snippet_tasks.py'}:digest", paths=tuple(items), params=PARAMS)
    script = snippet(spec, Config("processes", 2, library_threads=1), items)
    assert "from threadpoolctl import threadpool_limits" in script and "threadpool_limits(limits=1)" in script
    assert printed(script, tmp_path, isolated=False) == expected(spec, items)  # threadpoolctl: site-packages


def test_a_backend_with_no_tutorial_form_says_so() -> None:
    spec = JobSpec("sha256", paths=("x",))
    with pytest.raises(SnippetError, match="no snippet for the nonesuch backend"):
        snippet(spec.replace(backend="threads"), Config("nonesuch", 2), ["x"])


@pytest.mark.slow  # a LocalCluster takes ~5-8 s to start on 2 cores
def test_the_cluster_family_runs_on_a_local_dask_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    items = samples()
    spec = JobSpec(f"{PLUGINS / 'snippet_tasks.py'}:digest", paths=tuple(items), params=PARAMS)
    script = snippet(spec, Config("dask", 2), items)
    assert "Client(n_workers=2, threads_per_worker=1)" in script
    assert printed(script, tmp_path, isolated=False) == expected(spec, items)
