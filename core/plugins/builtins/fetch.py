"""``fetch``: download every URL listed in text files, into an output folder.

    urls.txt --read lines--> http(s)://host/a.png --GET--> out/a.png (atomic)

Real network I/O: workers spend their time waiting on sockets with the GIL
released, so many threads are cheap and processes add little.  Each list is one
item; the downloads in it run one after another, each streamed in chunks with
a size cap, and the item fails (after trying them all) if any download failed,
saying which and why.
"""

from __future__ import annotations

import io
import posixpath
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated

from .._files import AtomicOutput, Collision, open_input, safe_filename
from ..base import Output, Range, plugin

_CHUNK = 1 << 16
# A line longer than this is not a URL; reading stops there (a huge file
# with no newlines is not read whole into memory).
_MAX_LINE = 8192
_USER_AGENT = "poolside-fetch/0.1"


class FetchError(Exception):
    """Some of a list's downloads failed; the message lists them."""


@plugin(bound="io", accepts=("*.txt", "*.urls", "*.list"),
        columns=("urls", "downloaded", "skipped", "bytes"),
        side_effects="downloads every listed URL from its server")
def fetch(
    path: Path,
    out: Annotated[Path, Output] = Path("poolside-out/downloads"),
    timeout_s: Annotated[float, Range(0.1, 3600)] = 30.0,
    max_mb: Annotated[float, Range(0.001, 100_000)] = 100.0,
    on_collision: Collision = "rename",
) -> dict:
    """Download every URL listed in the given text files (real network I/O).

    One URL per line; blank lines and lines starting with # are ignored.

    Args:
        out: folder the downloads are written to (created if missing).
        timeout_s: give up on a server that sends nothing for this many seconds.
        max_mb: the largest download allowed, in MB; a bigger one fails.
        on_collision: when a file name exists: rename (name-1.ext), skip, or overwrite.
    """
    urls = list(_read_urls(path))
    limit = int(max_mb * 1_000_000)
    downloaded = skipped = total = 0
    failures: list[str] = []
    for url in urls:
        try:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise ValueError("not an http(s) URL")
            action, size = _download(url, out, timeout_s, limit, on_collision)
        except Exception as e:  # one bad URL must not stop the rest of the list
            failures.append(f"{url[:200]}: {_reason(e)}")
            continue
        if action == "skipped":
            skipped += 1
        else:
            downloaded += 1
            total += size
    if failures:
        shown = "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
        raise FetchError(f"{len(failures)} of {len(urls)} downloads failed: {shown}")
    return {"urls": len(urls), "downloaded": downloaded, "skipped": skipped, "bytes": total}


def _read_urls(path: Path):
    with open_input(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        number = 0
        while line := text.readline(_MAX_LINE):
            number += 1
            if len(line) >= _MAX_LINE and not line.endswith("\n"):
                raise ValueError(f"line {number} is longer than {_MAX_LINE} characters: "
                                 "not a list of URLs")
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def _download(url: str, folder: Path, timeout: float, limit: int,
              on_collision: str) -> tuple[str, int]:
    name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    output = AtomicOutput(folder, safe_filename(name, fallback="index.html"), on_collision)
    if output.skipped:
        return output.action, 0
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise ValueError(f"{int(length):,} bytes is more than the {limit:,} allowed (max_mb)")
        size = 0
        with output as target:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ValueError(f"more than the {limit:,} bytes allowed (max_mb)")
                target.write(chunk)
    return output.action, size


def _reason(e: Exception) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"cannot connect ({e.reason})"
    if isinstance(e, TimeoutError):
        return "timed out"
    return f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
