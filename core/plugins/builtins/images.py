"""``thumbnail``: shrink or convert images with Pillow into an output folder.

Decoding and resampling run in Pillow's C code, which releases the GIL for the
heavy parts: threads help, processes help more.  Pillow is imported inside the
function so that workers of other plugins never pay for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from ...inputs import display
from .._files import AtomicOutput, Collision, open_input
from ..base import Output, Range, plugin

IMAGE_PATTERNS = ("*.png", "*.jpg", "*.jpeg", "*.webp", "*.gif", "*.bmp", "*.tif", "*.tiff")
# Pillow's format names, and the suffix each output gets.
_FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}
# "same" format: what each input format is written as.  A phone's MPO is a
# JPEG with extras; formats Pillow reads but should not write become PNG.
_SAME = {"JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"),
         "WEBP": ("WEBP", ".webp"), "GIF": ("GIF", ".gif"), "BMP": ("BMP", ".bmp"),
         "TIFF": ("TIFF", ".tif")}


def thumbnail_name(path: Path, *, format: str = "same", **_settings: object) -> str:
    """The name a thumbnail of ``path`` gets: its stem and the output format's suffix.

    For ``"same"`` that is the input's own format, read from the image's header
    (Pillow reads a few bytes, not the pixels): a PNG named ``.jpg`` stays PNG.
    """
    if format != "same":
        return path.stem + _FORMATS[format][1]
    from PIL import Image, UnidentifiedImageError

    with open_input(path) as f, _named_failure(UnidentifiedImageError, path), Image.open(f) as img:
        return path.stem + _SAME.get(img.format or "", ("PNG", ".png"))[1]


@plugin(bound="cpu", accepts=IMAGE_PATTERNS, output_name=thumbnail_name,
        columns=("output", "action", "width", "height", "bytes"))
def thumbnail(
    path: Path,
    out: Annotated[Path, Output] = Path("poolside-out/thumbnails"),
    size: Annotated[int, Range(8, 8192)] = 256,
    format: Literal["same", "png", "jpeg", "webp"] = "same",
    quality: Annotated[int, Range(1, 100)] = 85,
    on_collision: Collision = "rename",
) -> dict:
    """Resize or convert images with Pillow into an output folder (CPU in C).

    Args:
        out: folder the thumbnails are written to (created if missing).
        size: the longest side of a thumbnail, in pixels; smaller images keep their size.
        format: the output format; "same" keeps the input's format.
        quality: JPEG and WebP quality (1-100).
        on_collision: when the output name exists: rename (name-1.png), skip, or overwrite.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    with open_input(path) as f, _named_failure(UnidentifiedImageError, path), Image.open(f) as img:
        if format == "same":
            pil_format, suffix = _SAME.get(img.format or "", ("PNG", ".png"))
        else:
            pil_format, suffix = _FORMATS[format]
        output = AtomicOutput(out, path.stem + suffix, on_collision, protect=path)
        if output.skipped:
            return {"output": str(output.path), "action": output.action,
                    "width": None, "height": None, "bytes": None}
        # JPEG can decode at 1/2, 1/4, 1/8 scale directly: much less work.
        img.draft(img.mode, (size, size))
        thumb = ImageOps.exif_transpose(img)
        thumb.thumbnail((size, size))
        # Each format stores only some modes (JPEG: no alpha; PNG: no CMYK).
        jpeg_cannot = pil_format == "JPEG" and thumb.mode not in ("RGB", "L", "CMYK")
        others_cannot = pil_format != "JPEG" and thumb.mode in ("CMYK", "YCbCr", "LAB", "HSV")
        if jpeg_cannot or others_cannot:
            thumb = thumb.convert("RGB")
        options = {"quality": quality} if pil_format in ("JPEG", "WEBP") else {}
        with output as target:
            thumb.save(target, format=pil_format, **options)
    return {"output": str(output.path), "action": output.action,
            "width": thumb.width, "height": thumb.height,
            "bytes": output.path.stat().st_size}



@contextlib.contextmanager
def _named_failure(unidentified: type[Exception], path: Path) -> Iterator[None]:
    """Pillow names the file object it was given (``<_io.BufferedReader name=7>``): name the file."""
    try:
        yield
    except unidentified:
        raise unidentified(f"cannot identify image file {display(path)!r}: "
                           "not an image Pillow can read") from None
