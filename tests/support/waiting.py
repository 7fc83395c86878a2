"""Waiting in async tests for what a background loop does, by a deadline, not a count of sleeps
(a count of sleeps is a deadline that shrinks on a busy machine)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(predicate: Callable[[], bool], within: float = 30.0) -> bool:
    """Whether ``predicate`` became true within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
