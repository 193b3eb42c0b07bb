"""Each built-in plugin, on threads and on processes, with its real output checked."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from poolside import run
from poolside.plugins import get_plugin
from poolside.plugins.builtins import text as text_module
from tests import ROOT

SAMPLES = ROOT / "resources" / "samples"
BACKENDS = ["threads", "processes"]


def run_plugin(name: str, items: list, backend: str, **values) -> list:
    task = get_plugin(name).bind(values)
    return list(run(task, items, backend=backend, workers=2, ordered=True))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def images(tmp_path) -> list[Path]:
    """Copies of the sample images (inputs must stay untouched: we check)."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name in ("sunset.jpg", "icon.png", "tiles.png"):
        (folder / name).write_bytes((SAMPLES / "images" / name).read_bytes())
        paths.append(folder / name)
    return paths


# -- sha256 ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_sha256(backend, tmp_path):
    files = {"empty": b"", "small": b"hello", "multi-chunk": bytes(range(256)) * 100}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    outcomes = run_plugin("sha256", [tmp_path / n for n in files], backend, chunk_kb=4)
    assert [o.value for o in outcomes] == [
        {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for d in files.values()]


# -- thumbnail --------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_thumbnail(backend, images, tmp_path):
    before = [digest(p) for p in images]
    out = tmp_path / "thumbs"
    outcomes = run_plugin("thumbnail", images, backend, out=str(out), size=64)
    assert [o.status for o in outcomes] == ["ok"] * 3, [o.error for o in outcomes]
    for o, source in zip(outcomes, images):
        made = Path(o.value["output"])
        assert made.parent == out and made.name == source.name
        assert o.value["action"] == "written"
        with Image.open(made) as img, Image.open(source) as original:
            assert max(img.size) == 64 and img.format == original.format
            assert (img.width, img.height) == (o.value["width"], o.value["height"])
        assert o.value["bytes"] == made.stat().st_size
    assert [digest(p) for p in images] == before
    assert not list(out.glob(".*.part"))  # no temporary file left behind


def test_thumbnail_converts_formats_and_modes(images, tmp_path):
    icon = images[1]  # RGBA: JPEG has no alpha, so it must be converted
    outcomes = run_plugin("thumbnail", [icon], "threads", out=str(tmp_path / "t"), format="jpeg")
    made = Path(outcomes[0].value["output"])
    assert made.name == "icon.jpg"
    with Image.open(made) as img:
        assert img.format == "JPEG" and img.mode == "RGB"


def test_thumbnail_collision_policies(images, tmp_path):
    out = tmp_path / "t"
    src = images[:1]
    first = run_plugin("thumbnail", src, "threads", out=str(out))[0].value
    renamed = run_plugin("thumbnail", src, "threads", out=str(out), on_collision="rename")[0].value
    assert renamed["action"] == "renamed" and Path(renamed["output"]).name == "sunset-1.jpg"
    stamp = Path(first["output"]).stat().st_mtime_ns
    skipped = run_plugin("thumbnail", src, "threads", out=str(out), on_collision="skip")[0].value
    assert skipped["action"] == "skipped" and skipped["output"] == first["output"]
    assert Path(first["output"]).stat().st_mtime_ns == stamp
    again = run_plugin("thumbnail", src, "threads", out=str(out), on_collision="overwrite",
                       size=32)[0].value
    assert again["action"] == "overwritten" and again["output"] == first["output"]
    with Image.open(again["output"]) as img:
        assert max(img.size) == 32
    assert sorted(p.name for p in out.iterdir()) == ["sunset-1.jpg", "sunset.jpg"]


def test_thumbnail_never_overwrites_its_input(images):
    source = images[0]
    before = digest(source)
    o = run_plugin("thumbnail", [source], "threads", out=str(source.parent),
                   on_collision="overwrite")[0]
    assert o.status == "failed" and "refusing to overwrite the input" in o.error.message
    assert digest(source) == before
    assert sorted(p.name for p in source.parent.iterdir()) == ["icon.png", "sunset.jpg", "tiles.png"]
    # With rename, writing next to the input is fine: it gets a new name.
    o = run_plugin("thumbnail", [source], "threads", out=str(source.parent))[0]
    assert Path(o.value["output"]).name == "sunset-1.jpg" and digest(source) == before


def test_thumbnail_of_a_non_image_fails_clearly(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    o = run_plugin("thumbnail", [text], "threads", out=str(tmp_path / "t"))[0]
    assert o.status == "failed" and o.error.type == "UnidentifiedImageError"
    # The file by its name, not Pillow's "<_io.BufferedReader name=7>"
    assert o.error.message == f"cannot identify image file {str(text)!r}: not an image Pillow can read"
    assert not (tmp_path / "t").exists() or not list((tmp_path / "t").iterdir())


# -- gzip --------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_gzip_round_trip(backend, tmp_path):
    data = {"a.txt": b"hello " * 1000, "empty.bin": b"", "b.dat": bytes(range(256)) * 50}
    for name, content in data.items():
        (tmp_path / name).write_bytes(content)
    packed = run_plugin("gzip", [tmp_path / n for n in data], backend, out=str(tmp_path / "gz"),
                        level=9)
    assert [o.status for o in packed] == ["ok"] * 3, [o.error for o in packed]
    for o, (name, content) in zip(packed, data.items()):
        made = Path(o.value["output"])
        assert made.name == name + ".gz" and gzip.decompress(made.read_bytes()) == content
        assert o.value["bytes_in"] == len(content) and o.value["bytes_out"] == made.stat().st_size
        with gzip.open(made) as f:  # the header names the original, not the temp file
            f.read()
        assert made.read_bytes()[10:10 + len(name)] == name.encode()
    # mode auto: .gz names are decompressed
    unpacked = run_plugin("gzip", [Path(o.value["output"]) for o in packed], backend,
                          out=str(tmp_path / "back"))
    for o, (name, content) in zip(unpacked, data.items()):
        assert Path(o.value["output"]).name == name
        assert Path(o.value["output"]).read_bytes() == content


def test_gunzip_of_a_bad_file_fails_clearly(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"this is not gzip")
    o = run_plugin("gzip", [bad], "threads", out=str(tmp_path / "o"))[0]
    assert o.status == "failed" and "not a valid gzip file" in str(o.error)
    assert not list((tmp_path / "o").iterdir())  # the half-written file is gone


# -- wordcount --------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_wordcount(backend, tmp_path):
    texts = {"a.txt": "one two  three\nfour\n", "b.txt": "", "c.txt": "café\r\nno newline",
             "d.txt": "   \n\n"}
    for name, content in texts.items():
        (tmp_path / name).write_bytes(content.encode())
    outcomes = run_plugin("wordcount", [tmp_path / n for n in texts], backend)
    assert [o.value for o in outcomes] == [
        {"lines": 2, "words": 4, "chars": 20, "bytes": 20},
        {"lines": 0, "words": 0, "chars": 0, "bytes": 0},
        {"lines": 1, "words": 3, "chars": 16, "bytes": 17},
        {"lines": 2, "words": 0, "chars": 5, "bytes": 5},
    ]


def test_wordcount_replaces_bad_bytes_and_honours_the_encoding(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"caf\xe9 ok\n")
    as_utf8 = get_plugin("wordcount").bind()(tmp_path / "x.txt")
    as_latin = get_plugin("wordcount").bind({"encoding": "latin-1"})(tmp_path / "x.txt")
    assert as_utf8 == as_latin == {"lines": 1, "words": 2, "chars": 8, "bytes": 8}


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab \n\t\u00e9\u3000x"), max_size=60),
       chunk=st.integers(1, 7))
def test_wordcount_is_the_same_whatever_the_chunk_size(tmp_path_factory, text, chunk):
    path = tmp_path_factory.mktemp("wc") / "t.txt"
    path.write_bytes(text.encode())
    original = text_module._CHUNK_CHARS
    text_module._CHUNK_CHARS = chunk
    try:
        counts = text_module.wordcount(path)
    finally:
        text_module._CHUNK_CHARS = original
    assert counts == {"lines": text.count("\n"), "words": len(text.split()),
                      "chars": len(text), "bytes": len(text.encode())}


# -- primes, latency ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_primes(backend):
    outcomes = run_plugin("primes", [1, 2, 3], backend, limit=100)
    assert [o.value for o in outcomes] == [{"primes": 25, "largest": 97}] * 3
    assert get_plugin("primes").bind({"limit": 2})(None) == {"primes": 0, "largest": None}
    assert get_plugin("primes").bind({"limit": 3})(None) == {"primes": 1, "largest": 2}


@pytest.mark.parametrize("backend", BACKENDS)
def test_latency(backend):
    outcomes = run_plugin("latency", ["a", "b"], backend, ms=2)
    assert all(o.ok and o.value["waited_ms"] >= 2 for o in outcomes)
    assert get_plugin("latency").bind({"ms": 0})("x")["waited_ms"] >= 0


# -- fetch: against a server on 127.0.0.1 only ---------------------------------------------------

@pytest.fixture
def http_root(tmp_path):
    """A static file server on 127.0.0.1 (never any other address), stopped after the test."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the local server\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 40)
    (root / "big.bin").write_bytes(b"x" * 5000)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fetch(backend, http_root, no_proxy, tmp_path):
    root, base = http_root
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "one.txt").write_text(f"# comment\n\n{base}/hello.txt\n  {base}/data.bin  \n")
    (lists / "two.txt").write_text(f"{base}/hello.txt\n")
    out = tmp_path / "dl"
    outcomes = run_plugin("fetch", [lists / "one.txt", lists / "two.txt"], backend,
                          out=str(out), timeout_s=10)
    assert [o.status for o in outcomes] == ["ok", "ok"], [o.error for o in outcomes]
    assert outcomes[0].value == {"urls": 2, "downloaded": 2, "skipped": 0,
                                 "bytes": 28 + 256 * 40}
    assert outcomes[1].value["downloaded"] == 1
    assert (out / "data.bin").read_bytes() == (root / "data.bin").read_bytes()
    # Both lists name hello.txt: the second one got another name, nothing was lost.
    assert sorted(p.name for p in out.iterdir()) == ["data.bin", "hello-1.txt", "hello.txt"]


def test_fetch_reports_every_failure_and_keeps_the_rest(http_root, no_proxy, tmp_path):
    _, base = http_root
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{base}/missing.txt\n{base}/hello.txt\nftp://example.invalid/x\n"
                    f"{base}/big.bin\n")
    o = run_plugin("fetch", [urls], "threads", out=str(tmp_path / "dl"), max_mb=0.004)[0]
    assert o.status == "failed" and o.error.type == "FetchError"
    message = o.error.message
    assert message.startswith("3 of 4 downloads failed")
    assert "missing.txt: HTTP 404" in message
    assert "ftp://example.invalid/x: not an http(s) URL" in message
    assert "big.bin: 5,000 bytes is more than the 4,000 allowed" in message
    assert [p.name for p in (tmp_path / "dl").iterdir()] == ["hello.txt"]


def test_fetch_skip_policy_downloads_nothing_twice(http_root, no_proxy, tmp_path):
    _, base = http_root
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{base}/hello.txt\n")
    task = get_plugin("fetch").bind({"out": str(tmp_path / "dl"), "on_collision": "skip"})
    assert task(urls)["downloaded"] == 1
    assert task(urls) == {"urls": 1, "downloaded": 0, "skipped": 1, "bytes": 0}


def test_fetch_refuses_a_file_that_is_not_a_url_list(tmp_path):
    blob = tmp_path / "blob.txt"
    blob.write_bytes(b"x" * 20000)  # one enormous "line"
    o = run_plugin("fetch", [blob], "threads", out=str(tmp_path / "dl"))[0]
    assert o.status == "failed" and "longer than 8192 characters" in o.error.message


def test_thumbnail_same_format_for_other_inputs(tmp_path):
    gif = tmp_path / "anim.gif"
    Image.new("P", (300, 100)).save(gif)
    bmp = tmp_path / "plain.bmp"
    Image.new("RGB", (100, 300), "red").save(bmp)
    task = get_plugin("thumbnail").bind({"out": str(tmp_path / "t"), "size": 30})
    made = [Path(task(p)["output"]) for p in (gif, bmp)]
    assert [p.name for p in made] == ["anim.gif", "plain.bmp"]
    with Image.open(made[0]) as a, Image.open(made[1]) as b:
        assert (a.format, a.size, b.format, b.size) == ("GIF", (30, 10), "BMP", (10, 30))


def test_thumbnail_names_and_modes(tmp_path):
    cmyk = tmp_path / "print.2024.jpg"  # a dotted name keeps everything but the suffix
    Image.new("CMYK", (200, 100), (0, 50, 100, 0)).save(cmyk)
    task = get_plugin("thumbnail").bind({"out": str(tmp_path / "t"), "size": 50, "format": "png"})
    made = Path(task(cmyk)["output"])
    assert made.name == "print.2024.png"
    with Image.open(made) as img:
        assert (img.format, img.mode, img.size) == ("PNG", "RGB", (50, 25))
