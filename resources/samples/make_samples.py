"""Re-create the sample images: ``python resources/samples/make_samples.py``.

The images are drawn, not photographed, so they are ours to ship and small
(the whole samples folder stays under 200 KB).  The output is deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent / "images"


def gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / max(1, h - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize(size)


def sunset(size=(800, 533)) -> Image.Image:
    img = gradient(size, (250, 140, 70), (70, 40, 110))
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse((w * 0.35, h * 0.45, w * 0.65, h * 0.9), fill=(255, 210, 120))
    for i in range(6):
        y = h * 0.7 + i * h * 0.05
        d.rectangle((0, y, w, y + h * 0.025), fill=(60 + i * 8, 40, 100 - i * 6))
    d.polygon([(0, h), (w * 0.3, h * 0.62), (w * 0.55, h), ], fill=(30, 20, 50))
    d.polygon([(w * 0.4, h), (w * 0.75, h * 0.55), (w, h * 0.85), (w, h)], fill=(40, 25, 60))
    return img.filter(ImageFilter.GaussianBlur(1))


def harbour(size=(720, 480)) -> Image.Image:
    img = gradient(size, (120, 180, 230), (20, 70, 120))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle((0, h * 0.6, w, h), fill=(25, 60, 100))
    for i, x in enumerate(range(60, w, 130)):
        d.polygon([(x, h * 0.62), (x + 80, h * 0.62), (x + 65, h * 0.7), (x + 15, h * 0.7)],
                  fill=(200, 60 + i * 25, 50))
        d.line((x + 40, h * 0.62, x + 40, h * 0.35), fill=(240, 240, 240), width=3)
        d.polygon([(x + 42, h * 0.37), (x + 42, h * 0.6), (x + 85, h * 0.6)], fill=(245, 245, 235))
    return img.filter(ImageFilter.GaussianBlur(0.8))


def rings(size=(640, 640)) -> Image.Image:
    img = Image.new("RGB", size, (15, 15, 30))
    d = ImageDraw.Draw(img)
    cx, cy = size[0] / 2, size[1] / 2
    for r in range(300, 0, -20):
        t = r / 300
        d.ellipse((cx - r, cy - r, cx + r, cy + r),
                  fill=(round(40 + 200 * t), round(120 + 100 * math.sin(t * 6)), round(220 - 150 * t)))
    return img.filter(ImageFilter.GaussianBlur(1.5))


def tiles(size=(600, 400)) -> Image.Image:
    img = Image.new("RGB", size, (240, 235, 220))
    d = ImageDraw.Draw(img)
    for y in range(0, size[1], 50):
        for x in range(0, size[0], 50):
            k = (x // 50 * 7 + y // 50 * 3) % 5
            colour = [(200, 80, 60), (60, 120, 180), (230, 190, 70), (90, 160, 100), (40, 40, 60)][k]
            d.rounded_rectangle((x + 4, y + 4, x + 46, y + 46), radius=8, fill=colour)
    return img


def icon(size=(256, 256)) -> Image.Image:
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((16, 16, 240, 240), fill=(40, 120, 200, 255))
    d.ellipse((60, 60, 196, 196), fill=(255, 255, 255, 220))
    d.rectangle((118, 40, 138, 216), fill=(40, 120, 200, 255))
    return img


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    sunset().save(HERE / "sunset.jpg", quality=72, optimize=True)
    harbour().save(HERE / "harbour.jpg", quality=72, optimize=True)
    rings().save(HERE / "rings.jpg", quality=72, optimize=True)
    tiles().save(HERE / "tiles.png", optimize=True)
    icon().save(HERE / "icon.png", optimize=True)
    icon((64, 64)).resize((96, 96)).convert("RGB").save(HERE / "small.webp", quality=80)
    for p in sorted(HERE.iterdir()):
        print(f"{p.name:12} {p.stat().st_size:8,} bytes")


if __name__ == "__main__":
    main()
