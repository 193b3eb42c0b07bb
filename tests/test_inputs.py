"""Bad input of every kind: a clear usage error now, or a clear failed outcome; never a hang."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from pathlib import Path

import pytest

from poolside import run
from poolside.inputs import InputUsageError, display, expand, printable, walk
from poolside.plugins import InputError, get_plugin
from poolside.plugins._files import check_input, open_input

EMPTY_SHA = hashlib.sha256(b"").hexdigest()
needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and sockets are POSIX")


def outcomes_by_name(task, items, backend="threads"):
    return {display(o.item.name if isinstance(o.item, Path) else o.item): o
            for o in run(task, items, backend=backend, workers=2)}


# -- usage errors: found before anything runs --------------------------------------------

def test_missing_paths_are_all_named(tmp_path):
    (tmp_path / "here.txt").write_text("x")
    with pytest.raises(InputUsageError) as info:
        expand([tmp_path / "here.txt", tmp_path / "gone.txt", tmp_path / "also-gone"])
    assert len(info.value.problems) == 2
    assert "gone.txt': no such file or folder" in str(info.value)
    assert "also-gone': no such file or folder" in str(info.value)


def test_every_bad_path_is_named_at_once_broken_links_included(tmp_path):
    (tmp_path / "broken-link").symlink_to(tmp_path / "nowhere")
    (tmp_path / "adir").mkdir()
    with pytest.raises(InputUsageError) as info:
        expand([tmp_path / "broken-link", tmp_path / "missing-file", tmp_path / "adir"])
    problems = info.value.problems
    assert len(problems) == 3
    assert "broken-link' is a broken link (it points to" in problems[0] and "nowhere" in problems[0]
    assert "missing-file': no such file or folder" in problems[1]
    assert "adir' is a folder; add --recursive" in problems[2]


def test_folder_without_recursive_is_a_usage_error(tmp_path):
    with pytest.raises(InputUsageError, match="is a folder; add --recursive"):
        expand([tmp_path])
    assert list(expand([tmp_path], recursive=True)) == []


def test_a_nul_in_a_path_is_a_usage_error():
    with pytest.raises(InputUsageError, match="not a valid path"):
        expand(["bad\0name"])


# -- walking ------------------------------------------------------------------------------

def test_walk_order_patterns_and_counted_skips(tmp_path):
    for rel in ("b.txt", "a.TXT", "notes.md", "sub/c.txt", "sub/deeper/d.txt", "sub/e.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / "loop").symlink_to(tmp_path)  # a cycle, if it were followed
    items = expand([tmp_path], recursive=True, patterns=("*.txt",))
    got = [p.relative_to(tmp_path).as_posix() for p in items]
    assert got == ["a.TXT", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]  # case-insensitive
    assert items.done and items.yielded == 4
    assert items.skipped == {"did not match the patterns": 2, "symlinked folder (not followed)": 1}
    assert items.skipped_note() == ("skipped 3 entries: 2 did not match the patterns (*.txt), "
                                    "1 symlinked folder (not followed)")


def test_files_named_explicitly_are_never_filtered(tmp_path):
    (tmp_path / "notes.md").write_text("x")
    assert list(expand([tmp_path / "notes.md"], patterns=("*.txt",))) == [tmp_path / "notes.md"]


def test_a_symlinked_folder_named_explicitly_is_walked(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert list(walk(tmp_path / "link")) == [tmp_path / "link" / "a.txt"]


def test_outputs_are_not_walked_into(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "made.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "records.jsonl").write_text("")
    items = expand([tmp_path], recursive=True, exclude=[tmp_path / "out", tmp_path / "records.jsonl"])
    assert list(items) == [tmp_path / "a.txt"]
    assert items.skipped == {"an output of this run": 2}


def test_walking_is_lazy(tmp_path):
    for i in range(5):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "f.txt").write_text("x")
    items = expand([tmp_path], recursive=True)
    assert next(items) == tmp_path / "d0" / "f.txt"
    assert items.yielded == 1 and not items.done
    assert iter(items) is items  # the engine may call iter() more than once


# -- bad files: items whose outcome says what is wrong --------------------------------------

@pytest.fixture
def zoo(tmp_path):
    """A folder with one of everything that is not a plain readable file."""
    root = tmp_path / "zoo"
    root.mkdir()
    (root / "good.txt").write_text("good")
    (root / "empty.txt").write_bytes(b"")
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    (root / "null.txt").symlink_to(os.devnull)
    (root / "notes.md").write_text("not matched")
    os.mkfifo(root / "fifo.txt")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as f:  # not UTF-8
        f.write(b"latin-1 name")
    (root / "sub").mkdir()
    (root / "sub" / "nested.txt").write_text("nested")
    (root / "sub-link").symlink_to(root / "sub")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.txt"))
    yield root
    sock.close()


@needs_posix
@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_every_bad_file_fails_clearly_and_nothing_hangs(zoo, backend):
    items = expand([zoo], recursive=True, patterns=("*.txt",))
    got = outcomes_by_name(get_plugin("sha256").bind(), items, backend)
    assert set(got) == {"good.txt", "empty.txt", "broken.txt", "null.txt", "fifo.txt",
                        "caf\\xe9.txt", "nested.txt", "sock.txt"}
    assert got["good.txt"].value["sha256"] == hashlib.sha256(b"good").hexdigest()
    assert got["empty.txt"].value == {"sha256": EMPTY_SHA, "bytes": 0}
    assert got["caf\\xe9.txt"].value["bytes"] == len(b"latin-1 name")
    assert got["nested.txt"].ok
    expected = {
        "broken.txt": "broken symbolic link (it points to",
        "null.txt": "a character device, not a regular file",
        "fifo.txt": "a FIFO (named pipe), not a regular file (left unopened)",
        "sock.txt": "a socket, not a regular file",
    }
    for name, words in expected.items():
        o = got[name]
        assert o.status == "failed" and o.error.type == "InputError", name
        assert words in o.error.message, (name, o.error)
    # Nothing silently dropped: the rest are counted.
    assert items.skipped == {"did not match the patterns": 1, "symlinked folder (not followed)": 1}


@needs_posix
def test_a_fifo_named_explicitly_is_an_item_that_fails(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for name in ("sha256", "wordcount", "gzip", "thumbnail", "fetch"):
        values = {"out": str(tmp_path / "out")} if name in ("gzip", "thumbnail", "fetch") else {}
        o = next(iter(run(get_plugin(name).bind(values), expand([fifo]), backend="threads")))
        assert o.status == "failed" and "FIFO" in o.error.message, name


@needs_posix
def test_opening_never_blocks_even_if_the_check_was_raced(tmp_path, monkeypatch):
    # Between check_input and open the path may have become a FIFO: open_input
    # opens without blocking and looks again.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    monkeypatch.setattr("poolside.plugins._files.check_input", lambda path: None)
    with pytest.raises(InputError, match="FIFO"):
        open_input(fifo)


def test_a_folder_that_cannot_be_listed_is_an_item_that_says_so(tmp_path, monkeypatch):
    (tmp_path / "ok.txt").write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    got = outcomes_by_name(get_plugin("sha256").bind(), expand([tmp_path], recursive=True))
    assert got["ok.txt"].ok
    assert got["locked"].status == "failed"
    assert got["locked"].error.message == "a directory that cannot be listed: Permission denied"


def test_an_unreadable_file_fails_clearly(tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == os.fspath(secret)
                        else real_access(p, mode, **kw))
    o = next(iter(run(get_plugin("sha256").bind(), [secret], backend="threads")))
    assert o.status == "failed" and o.error.message == "permission denied (the file is not readable)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads any file, whatever its mode")
def test_an_unreadable_file_fails_clearly_for_real(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    o = next(iter(run(get_plugin("sha256").bind(), [secret], backend="processes", workers=1)))
    assert o.status == "failed" and "permission denied" in o.error.message


def test_a_file_removed_after_listing_fails_clearly(tmp_path):
    gone = tmp_path / "gone.txt"
    gone.write_text("x")
    items = expand([gone])
    gone.unlink()
    o = next(iter(run(get_plugin("sha256").bind(), items, backend="threads")))
    assert o.status == "failed" and "no such file" in o.error.message


def test_empty_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    task = lambda name, **v: get_plugin(name).bind(v)  # noqa: E731
    assert task("wordcount")(empty) == {"lines": 0, "words": 0, "chars": 0, "bytes": 0}
    assert task("fetch", out=str(tmp_path / "dl"))(empty) == {
        "urls": 0, "downloaded": 0, "skipped": 0, "bytes": 0}
    made = task("gzip", out=str(tmp_path / "gz"))(empty)
    assert made["bytes_in"] == 0 and Path(made["output"]).exists()
    o = next(iter(run(task("thumbnail", out=str(tmp_path / "t")), [empty], backend="threads")))
    assert o.status == "failed" and "cannot identify image file" in o.error.message


def test_huge_files_fail_fast_or_stream(tmp_path):
    # Sparse: 4 GiB on paper, nothing on disk.  Nothing may read it whole.
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.truncate(4 * 2**30)
    thumb = next(iter(run(get_plugin("thumbnail").bind({"out": str(tmp_path / "t")}), [huge],
                          backend="threads")))
    assert thumb.status == "failed" and "cannot identify image file" in thumb.error.message
    fetch = next(iter(run(get_plugin("fetch").bind({"out": str(tmp_path / "d")}), [huge],
                          backend="threads")))
    assert fetch.status == "failed" and "longer than 8192 characters" in fetch.error.message
    # A hash streams it in chunks (a big-enough sparse file to span many of them).
    medium = tmp_path / "medium.bin"
    with open(medium, "wb") as f:
        f.truncate(32 * 2**20)
    expected = hashlib.sha256(bytes(32 * 2**20)).hexdigest()
    assert get_plugin("sha256").bind({"chunk_kb": 1024})(medium)["sha256"] == expected


# -- names that are not UTF-8 ---------------------------------------------------------------

def test_display_of_undecodable_names():
    name = os.fsdecode(b"caf\xe9.txt")
    assert display(Path(name)) == "caf\\xe9.txt"
    assert display(b"caf\xe9") == "caf\\xe9"
    assert display("plain é") == "plain é"
    assert display(42) == "42"
    assert printable("lone \ud800 surrogate") == "lone \\ud800 surrogate"


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS filesystems refuse non-UTF-8 names")
def test_undecodable_names_work_end_to_end(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"\xff\xfe.txt")
    with open(raw, "wb") as f:
        f.write(b"one two\n")
    [item] = list(expand([tmp_path], recursive=True))
    assert os.fsencode(item) == raw
    o = next(iter(run(get_plugin("wordcount").bind(), [item], backend="processes", workers=1)))
    assert o.ok and o.value["words"] == 2
    made = get_plugin("gzip").bind({"out": str(tmp_path / "gz")})(item)
    assert os.fsencode(made["output"]).endswith(b"\xff\xfe.txt.gz")


def test_check_input_accepts_a_plain_file(tmp_path):
    f = tmp_path / "a"
    f.write_text("x")
    assert check_input(f).st_size == 1
