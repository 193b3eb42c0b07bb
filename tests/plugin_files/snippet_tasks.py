"""Plugins with the standard library only: a snippet of them must run where Poolside is not installed."""

import asyncio
import hashlib
from pathlib import Path


def digest(path: Path, algorithm: str = "sha256", head: int = 0, scale: float = 0.5) -> dict:
    """A digest of the file and values JSON cannot hold as they are (bytes, a set, a path, inf)."""
    data = path.read_bytes()
    if head:
        data = data[:head]
    return {"digest": hashlib.new(algorithm, data).hexdigest(), "first": data[:4], "size": len(data) * scale,
            "letters": set(path.name[:3]), "path": path, "odd": float("inf") if not data else 1.0}


async def waited_name(path: Path, ms: float = 1.0) -> str:
    """The file's name after a short wait."""
    await asyncio.sleep(ms / 1000)
    return path.name
