"""Waiting on events with a timeout, the way every loop of the daemon does it."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["wait_any"]


async def wait_any(*events: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
    """Return when any event is set or after ``timeout`` seconds, whichever comes first."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)
