"""Waiting on events with a timeout, the way every loop of the daemon does it, and on a
thread's work to its end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["thread_to_the_end", "wait_any"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


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


async def thread_to_the_end(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``asyncio.to_thread``, except that when cancelled it still waits for ``fn`` to return
    before raising: what ``fn`` uses (a session) is the caller's again only then."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    cancelled = False
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            if work.cancelled():
                raise
            cancelled = True
    if cancelled:
        if not work.cancelled():
            work.exception()  # retrieved: its outcome no longer matters to anyone
        raise asyncio.CancelledError
    return work.result()
