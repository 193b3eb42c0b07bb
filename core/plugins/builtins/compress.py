"""``gzip``: compress files, or decompress ``.gz`` files, into an output folder.

zlib does the work in C and releases the GIL on each block, and the data
streams through in chunks, so a huge file needs no more memory than a small one.
"""

from __future__ import annotations

import gzip as _gzip
import shutil
import zlib
from pathlib import Path
from typing import Annotated, Literal

from .._files import AtomicOutput, Collision, open_input
from ..base import Output, Range, plugin

_CHUNK = 1 << 20


def gzip_name(path: Path, *, mode: str = "auto", **_settings: object) -> str:
    """The name ``path``'s output gets: ``a.txt.gz`` when compressing, ``a.txt`` when decompressing ``a.txt.gz``."""
    decompress = mode == "decompress" or (mode == "auto" and path.name.lower().endswith(".gz"))
    if not decompress:
        return path.name + ".gz"
    return path.name[:-3] if path.name.lower().endswith(".gz") else path.name + ".out"


@plugin(name="gzip", bound="mixed", output_name=gzip_name,
        columns=("output", "action", "bytes_in", "bytes_out"))
def gzip_file(
    path: Path,
    out: Annotated[Path, Output] = Path("poolside-out/gzip"),
    mode: Literal["auto", "compress", "decompress"] = "auto",
    level: Annotated[int, Range(1, 9)] = 6,
    on_collision: Collision = "rename",
) -> dict:
    """Compress files, or decompress .gz files, into an output folder (zlib, in C).

    Args:
        out: folder the results are written to (created if missing).
        mode: auto decompresses names ending in .gz and compresses the rest.
        level: compression level, 1 (fastest) to 9 (smallest).
        on_collision: when the output name exists: rename (name-1.gz), skip, or overwrite.
    """
    decompress = mode == "decompress" or (mode == "auto" and path.name.lower().endswith(".gz"))
    output = AtomicOutput(out, gzip_name(path, mode=mode), on_collision, protect=path)
    if output.skipped:
        return {"output": str(output.path), "action": output.action,
                "bytes_in": None, "bytes_out": None}
    with open_input(path) as source, output as target:
        if decompress:
            try:
                with _gzip.GzipFile(fileobj=source, mode="rb") as unzipped:
                    shutil.copyfileobj(unzipped, target, _CHUNK)
            except (_gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise ValueError(f"not a valid gzip file: {e}") from None
        else:
            # The header records the original name and time, as gzip(1) does,
            # not the temporary file's.
            mtime = int(path.stat().st_mtime)
            with _gzip.GzipFile(filename=path.name, mode="wb", fileobj=target,
                                compresslevel=level, mtime=mtime) as zipped:
                shutil.copyfileobj(source, zipped, _CHUNK)
        bytes_in = source.tell()
        target.flush()
        bytes_out = target.tell()
    return {"output": str(output.path), "action": output.action,
            "bytes_in": bytes_in, "bytes_out": bytes_out}
