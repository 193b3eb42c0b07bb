"""Plugins written as ``async def``: every backend must await them."""

import asyncio

from poolside.plugins import plugin


@plugin
async def doubled(item: int, by: int = 2) -> int:
    """The item times ``by``, after yielding to the event loop once."""
    await asyncio.sleep(0)
    return item * by


@plugin
async def refuse_three(item: int) -> int:
    """The item itself, but 3 raises after an await."""
    await asyncio.sleep(0)
    if item == 3:
        raise ValueError(f"async plugin refuses {item}")
    return item
