"""The ``poolside`` command: exit codes, records, messages; in-process, plus real subprocesses."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

import poolside
from poolside.cli import main
from poolside.cli.console import Console as _Console
from poolside.gui.launcher import main as launcher
from poolside.records import Summary
from poolside.serialize import FIELDS
from tests import PLUGIN_FILES, ROOT

SAMPLES = ROOT / "resources" / "samples"
FILES = PLUGIN_FILES


@pytest.fixture
def samples(tmp_path) -> Path:
    """A private copy of the samples: outputs must not land in the repository."""
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy)
    return copy


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default output folders are relative to the cwd


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- run: success, records ----------------------------------------------------------------

def test_run_sha256_writes_a_jsonl_record_per_item(samples, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    code = main(["run", str(samples), "-r", "-p", "sha256", "-b", "threads", "-o", str(out)])
    assert code == 0
    records = read_jsonl(out)
    files = sorted(p for p in samples.rglob("*") if p.is_file())
    assert sorted(r["item"] for r in records) == sorted(str(p) for p in files)
    for r in records:
        assert list(r) == list(FIELDS)
        assert r["status"] == "ok" and r["error"] is None and r["worker"] >= 0
        assert r["value"]["sha256"] == hashlib.sha256(Path(r["item"]).read_bytes()).hexdigest()
    err = capsys.readouterr().err
    assert f"{len(files)} items ({len(files)} ok)" in err and "threads ×" in err


def test_run_prints_a_line_per_item_without_output(samples, capsys):
    text = samples / "texts" / "haiku.txt"
    assert main(["run", str(text), "-p", "wordcount", "-b", "sequential"]) == 0
    out = capsys.readouterr().out
    content = text.read_text()
    assert out == (f"{text}\tlines={content.count(chr(10))}  words={len(content.split())}  "
                   f"chars={len(content)}  bytes={len(content)}\n")
    assert main(["run", str(text), "-p", "wordcount", "-b", "sequential", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_run_csv_has_the_plugin_columns_and_failures_give_exit_1(samples, tmp_path, capsys):
    out = tmp_path / "out.csv"
    not_an_image = samples / "texts" / "fable.txt"
    code = main(["run", str(samples / "images"), str(not_an_image), "-r", "-p", "thumbnail",
                 "--param", "size=32", "--param", f"out={tmp_path / 'thumbs'}",
                 "-b", "threads", "-o", str(out), "--ordered"])
    assert code == 1
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*FIELDS, "output", "action", "width", "height", "bytes"]
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))  # --ordered
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 6 and all(Path(r["output"]).exists() and int(r["width"]) <= 32 for r in ok)
    [bad] = [r for r in rows if r["status"] == "failed"]
    assert bad["item"] == str(not_an_image)
    assert bad["error"].startswith("UnidentifiedImageError: cannot identify image file")
    err = capsys.readouterr().err
    assert f"FAILED {not_an_image}: UnidentifiedImageError" in err
    assert "7 items (6 ok, 1 failed)" in err
    assert "Traceback" not in err


def test_run_uses_the_plugin_patterns_and_says_what_it_skipped(samples, capsys):
    assert main(["run", str(samples), "-r", "-p", "wordcount", "-b", "threads", "-q"]) == 0
    err = capsys.readouterr().err
    assert "6 items (6 ok)" in err  # 4 texts, urls.txt, make_samples.py: no images
    assert "skipped 6 entries: 6 did not match the patterns (*.txt, *.md" in err
    assert main(["run", str(samples), "-r", "-p", "sha256", "-b", "threads", "-q",
                 "--glob", "*.PNG"]) == 0
    assert "2 items (2 ok)" in capsys.readouterr().err


def test_the_record_file_is_not_an_input(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    assert main(["run", str(tmp_path), "-r", "-p", "sha256", "-b", "threads",
                 "-o", str(tmp_path / "o.jsonl")]) == 0
    assert [Path(r["item"]).name for r in read_jsonl(tmp_path / "o.jsonl")] == ["a.txt"]
    assert "1 an output of this run" in capsys.readouterr().err


def test_run_with_nothing_to_do_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["run", str(tmp_path / "empty"), "-r", "-p", "sha256", "-b", "threads"]) == 0
    assert "no items to run" in capsys.readouterr().err


def test_run_on_processes_with_a_plugin_file_and_timeout(tmp_path, capsys):
    fast, slow = tmp_path / "fast.txt", tmp_path / "slow.txt"
    fast.write_text("x")
    slow.write_text("x")
    out = tmp_path / "o.jsonl"
    code = main(["run", str(fast), str(slow), "-p", f"{FILES / 'my_tasks.py'}:slow_on",
                 "-b", "processes", "-w", "2", "--timeout", "1", "-o", str(out)])
    assert code == 1
    by_item = {Path(r["item"]).name: r for r in read_jsonl(out)}
    assert by_item["fast.txt"]["status"] == "ok" and by_item["fast.txt"]["value"] == "fast.txt"
    assert by_item["slow.txt"]["status"] == "timed_out"
    assert "TIMED OUT" in capsys.readouterr().err


def test_undecodable_names_in_records_and_lines(tmp_path, capsys):
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(raw, "wb") as f:
        f.write(b"a b c")
    shown = os.fsdecode(raw).replace("\udce9", "\\xe9")
    assert main(["run", os.fsdecode(raw), "-p", "wordcount", "-b", "threads",
                 "-o", str(tmp_path / "o.jsonl")]) == 0
    assert read_jsonl(tmp_path / "o.jsonl")[0]["item"] == shown
    assert main(["run", os.fsdecode(raw), "-p", "wordcount", "-b", "threads",
                 "-o", str(tmp_path / "o.csv")]) == 0
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as f:
        assert next(csv.DictReader(f))["item"] == shown
    assert main(["run", os.fsdecode(raw), "-p", "wordcount", "-b", "threads"]) == 0
    assert "caf\\xe9.txt\tlines=0  words=3" in capsys.readouterr().out


def test_bad_inputs_are_items_that_fail(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere")
    (tmp_path / "ok.txt").write_text("fine")
    out = tmp_path / "o.jsonl"
    assert main(["run", str(tmp_path), "-r", "-p", "wordcount", "-b", "threads",
                 "-o", str(out)]) == 1
    status = {Path(r["item"]).name: (r["status"], r["error"]) for r in read_jsonl(out)}
    assert status["ok.txt"] == ("ok", None)
    assert status["pipe.txt"] == ("failed", "InputError: a FIFO (named pipe), not a regular file "
                                            "(left unopened)")
    assert status["gone.txt"][1].startswith("InputError: broken symbolic link")


# -- usage errors: exit 2, one clear line, never a traceback -----------------------------------

@pytest.mark.parametrize("args, words", [
    (["run", "{f}", "-p", "nope"], "no plugin named 'nope'"),
    (["run", "{f}", "-p", "sha256", "--param", "chunk_kb=huge"],
     "parameter 'chunk_kb': expected an integer, got 'huge'"),
    (["run", "{f}", "-p", "sha256", "--param", "chunk_kb=1"], "below the minimum 4"),
    (["run", "{f}", "-p", "sha256", "--param", "nope=1"], "parameter 'nope': unknown parameter"),
    (["run", "{f}", "-p", "sha256", "--param", "chunk_kb"], "expected KEY=VALUE"),
    (["run", "{f}", "-p", "sha256", "--param", "chunk_kb=8", "--param", "chunk_kb=9"],
     "given twice"),
    (["run", "{f}", "-p", "thumbnail", "--param", "format=gif"], "not one of: same, png"),
    (["run", "{f}", "-p", "sha256", "-b", "nope"], "unknown backend 'nope'"),
    (["run", "{f}", "-p", "sha256", "-w", "0"], "must be at least 1"),
    (["run", "{f}", "-p", "sha256", "--chunk-size", "lots"], "expected a whole number"),
    (["run", "{f}", "-p", "sha256", "--timeout", "-1"], "above 0"),
    (["run", "{f}", "-p", "sha256", "-o", "out.txt"], "must end in .jsonl or .csv"),
    (["run", "{f}", "-p", "sha256", "-o", "/nonexistent-dir/o.jsonl"], "cannot write it"),
    (["run", "missing.txt", "-p", "sha256"], "'missing.txt': no such file or folder"),
    (["run", "{d}", "-p", "sha256"], "is a folder; add --recursive"),
    (["run", "-p", "sha256"], "no input"),
    (["run", "{f}"], "the following arguments are required: --plugin"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["--workers", "2"], "invalid choice"),
    (["run", "{f}", "-p", "{plugins}/broken_syntax.py:oops"], "SyntaxError"),
    (["run", "{f}", "-p", "{plugins}/my_tasks.py:nope"], "no function 'nope'"),
    (["run", "{f}", "-p", "{plugins}/bad_signatures.py:star_args"], "*rest"),
])
def test_usage_errors(args, words, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    args = [a.format(f=tmp_path / "a.txt", d=tmp_path, plugins=FILES) for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    first, *rest = captured.err.splitlines()
    assert first.startswith("poolside: error: ") and words in first, first
    assert rest and rest[0].startswith("Try 'poolside")
    assert "Traceback" not in captured.err and captured.out == ""


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert main(["run", "--help"]) == 0
    assert "--plugin NAME|FILE.py:FUNCTION" in capsys.readouterr().out


# -- plugins, info --------------------------------------------------------------------------------

def test_plugins_lists_every_builtin_with_its_params(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in ("sha256", "thumbnail", "gzip", "wordcount", "primes", "latency", "fetch"):
        assert f"\n{name}  [" in "\n" + out
    assert "--param size=...  int, 8..8192, default 256" in out
    assert "--param on_collision=...  rename | skip | overwrite, default 'rename'" in out
    assert "broken:" not in out


def test_plugins_with_files_reports_broken_ones(capsys):
    code = main(["plugins", str(FILES / "my_tasks.py"), str(FILES / "broken_import.py")])
    assert code == 1
    out = capsys.readouterr().out
    assert "shout  [cpu-bound; *.txt]" in out and f"from {FILES / 'my_tasks.py'}" in out
    assert f"broken: {FILES / 'broken_import.py'}: cannot import: ModuleNotFoundError" in out


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "logical cores" in out and "physical cores" in out and "CPU" in out
    assert "\n  processes " in out and "\n  threads " in out


# -- the window -------------------------------------------------------------------------------------

def test_no_arguments_without_a_display_is_a_clear_error(monkeypatch, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for X11/Wayland")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert launcher([]) == 2
    assert "cannot open the window: no display" in capsys.readouterr().err


def test_no_arguments_opens_the_window(monkeypatch):
    calls = []
    fake = types.ModuleType("poolside.gui.app")
    fake.main = lambda argv=None, exit_process=False, paths=(): calls.append((argv, list(paths))) or 0
    monkeypatch.setitem(sys.modules, "poolside.gui.app", fake)
    monkeypatch.setenv("DISPLAY", ":99")
    assert launcher([]) == 0 and calls == [([], [])]


def test_paths_open_the_window_with_them(monkeypatch, tmp_path):
    calls = []
    fake = types.ModuleType("poolside.gui.app")
    fake.main = lambda argv=None, exit_process=False, paths=(): calls.append(list(paths)) or 0
    monkeypatch.setitem(sys.modules, "poolside.gui.app", fake)
    monkeypatch.setenv("DISPLAY", ":99")
    job = tmp_path / "job.toml"
    job.write_text('plugin = "sha256"\n')
    assert launcher([str(tmp_path), str(job)]) == 0
    assert calls == [[str(tmp_path), str(job)]]


def test_the_command_with_arguments_is_the_cli(capsys):
    assert launcher(["info"]) == 0
    assert "logical cores" in capsys.readouterr().out


def test_the_bare_cli_prints_its_help():
    assert main([]) == 2


def test_no_arguments_without_the_window_package(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "poolside.gui.app", None)  # import gui.app raises ImportError
    monkeypatch.setenv("DISPLAY", ":99")
    assert launcher([]) == 2
    assert "the window is not available" in capsys.readouterr().err


# -- Ctrl-C ------------------------------------------------------------------------------------------

def test_ctrl_c_cancels_records_every_item_and_exits_130(tmp_path, monkeypatch, capsys):
    real_run = poolside.run

    class Interrupted:
        """The job, except that the first wait is interrupted as by Ctrl-C."""

        def __init__(self, job):
            self.job, self.waits = job, 0

        def __getattr__(self, name):
            return getattr(self.job, name)

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:
                raise KeyboardInterrupt
            return self.job.wait(timeout)

    monkeypatch.setattr(poolside, "run", lambda *a, **k: Interrupted(real_run(*a, **k)))
    for i in range(50):
        (tmp_path / f"{i:02}.txt").write_text("x")
    out = tmp_path / "o.jsonl"
    code = main(["run", str(tmp_path), "-r", "-p", "latency", "--param", "ms=20",
                 "-b", "threads", "-w", "1", "-o", str(out), "--glob", "*.txt"])
    assert code == 130
    # Every item the job had read has its record, the cancelled ones too (the
    # rest of the folder was never read: cancelling stops reading the input).
    records = read_jsonl(out)
    err = capsys.readouterr().err
    assert f"{len(records)} items (" in err
    assert {r["status"] for r in records} <= {"ok", "cancelled"}
    assert any(r["status"] == "cancelled" for r in records)
    assert "interrupted: cancelling" in err


# -- the progress bar ---------------------------------------------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_only():
    class Items:
        yielded, done = 10, True

    summary = Summary("threads", 2, counts={"ok": 4, "failed": 1, "timed_out": 0, "cancelled": 0},
                      wall_s=2.0)
    tty = FakeTTY()
    console = _Console(io.StringIO(), tty, quiet=False, results_to_stdout=True)
    console.progress(summary, Items())
    drawn = tty.getvalue()
    assert drawn.startswith("\r[") and " 5/10 " in drawn and "1 not ok" in drawn and "ETA" in drawn
    console.err("a message")
    assert tty.getvalue().endswith("\r\x1b[Ka message\n")  # the bar is cleared first
    plain = io.StringIO()
    _Console(io.StringIO(), plain, quiet=False, results_to_stdout=True).progress(summary, Items())
    assert plain.getvalue() == ""


# -- the real command, in a subprocess -----------------------------------------------------------------

def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("POOLSIDE_DEBUG", None)
    return env


def test_python_m_core_smoke(samples, tmp_path):
    out = tmp_path / "o.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "run", str(samples), "--recursive", "--plugin", "wordcount",
         "--backend", "processes", "--workers", "2", "--output", str(out)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "6 items (6 ok)" in proc.stderr and "processes ×2" in proc.stderr
    assert len(read_jsonl(out)) == 6
    usage = subprocess.run([sys.executable, "-m", "core", "run", "--plugin", "sha256", "nope"],
                           capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_in_a_real_run(tmp_path):
    (tmp_path / "fast.txt").write_text("x")
    (tmp_path / "slow.txt").write_text("x")
    out = tmp_path / "o.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "run", str(tmp_path / "fast.txt"), str(tmp_path / "slow.txt"),
         "-p", f"{FILES / 'my_tasks.py'}:slow_on", "-b", "processes", "-w", "2", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        # The fast item's record appears while the slow one still runs: records
        # are flushed as they come.  Then Ctrl-C.
        deadline = time.monotonic() + 60
        while not (out.exists() and out.read_text().count("\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)  # ok: polling another process's file; no signal to wait on
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: cancelling" in err
    status = {Path(r["item"]).name: r["status"] for r in read_jsonl(out)}
    assert status == {"fast.txt": "ok", "slow.txt": "cancelled"}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and SIGHUP to a child are POSIX")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_are_handled_like_ctrl_c(tmp_path, sig, code):
    """What `timeout`, `kill`, systemd, `docker stop` and CI send: every item recorded, a summary."""
    names = [f"f{i:03}.txt" for i in range(40)] + ["slow.txt"]
    for name in names:
        (tmp_path / name).write_text("x")
    out = tmp_path / "o.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "run", *(str(tmp_path / n) for n in names),
         "-p", f"{FILES / 'my_tasks.py'}:slow_on", "-b", "threads", "-w", "2", "--chunk-size", "1",
         "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.read_text().count("\n") >= 5):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)  # ok: polling another process's file; no signal to wait on
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"{sig.name}: cancelling" in err
    records = read_jsonl(out)
    assert sorted(Path(r["item"]).name for r in records) == sorted(names), "every item once"
    status = {Path(r["item"]).name: r["status"] for r in records}
    assert status["slow.txt"] == "cancelled"
    assert f"{len(names)} items (" in err  # the summary line


def test_a_name_with_a_newline_stays_on_one_line(tmp_path, capsys):
    odd = tmp_path / "two\nlines\t.txt"
    odd.write_text("hello")
    assert main(["run", str(odd), "-p", "sha256", "-b", "sequential"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one item, one line: scripts split stdout on newlines
    item, value = out.rstrip("\n").split("\t")  # and on the tab
    assert item == str(tmp_path / "two\\nlines\\t.txt")
    assert value.startswith(f"sha256={hashlib.sha256(b'hello').hexdigest()}")


def test_a_run_imports_neither_the_study_stack_nor_asyncio(tmp_path):
    # ``poolside run`` is a whole process per call: numpy and scipy (the studies,
    # the stored series) and asyncio (async tasks) cost it ~75 ms of imports that a
    # sha256 run of 1,000 files never uses.  A numpy import also starts a BLAS
    # thread, after which the zygote can no longer be forked.
    (tmp_path / "a.txt").write_text("x")
    script = ("import sys; from poolside.cli.main import main; "
              f"code = main(['-vv', 'run', {str(tmp_path / 'a.txt')!r}, '-p', 'sha256', '-q', '-b', 'processes', "
              "'-w', '1']); "
              "print(sorted(m for m in ('numpy', 'scipy', 'asyncio') if m in sys.modules)); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "worker processes (zygote)" in done.stderr  # forked in ~1 ms, not from a fresh forkserver


# -- the CLI speaks poolside.words ----------------------------------------------------------

def test_insights_print_the_windows_sentences_then_their_figures(samples, capsys, monkeypatch):
    from poolside.cli import console
    from poolside.words.runs import insight_sentences

    seen = []

    def spy(ins, **options):
        seen.append(ins)
        return insight_sentences(ins, **options)

    monkeypatch.setattr(console, "insight_sentences", spy)
    assert main(["run", str(samples), "-r", "-p", "sha256", "-b", "threads", "-w", "2", "--insights"]) == 0
    err = capsys.readouterr().err.splitlines()
    [ins] = seen
    said = insight_sentences(ins, detail=True)
    start = err.index("insights:") + 1
    assert err[start:start + len(said)] == ["  " + s for s in said]
    assert said[: len(insight_sentences(ins))] == insight_sentences(ins)  # the Run tab's headline comes first


def test_history_lists_labels_states_and_durations_from_the_vocabulary(samples, capsys):
    from poolside.history import store
    from poolside.words.runs import run_state
    from poolside.words.units import human_duration

    assert main(["run", str(samples), "-r", "-p", "sha256", "-b", "threads", "-w", "2", "-q"]) == 0
    capsys.readouterr()
    assert main(["history"]) == 0
    line = capsys.readouterr().out
    [run] = store.list_runs(store.connect())
    assert "threads ×2" in line and f"  {run_state('finished').label} " in line
    assert human_duration(run["wall_s"]) in line
    assert main(["history", "show", "last"]) == 0
    shown = capsys.readouterr().out
    assert "0 timed out" in shown and "timed_out" not in shown and run_state("finished").meaning in shown
