from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.waiting import thread_to_the_end


async def test_a_thread_s_result_and_its_error_come_back() -> None:
    assert await thread_to_the_end(lambda a, b: a + b, 2, b=3) == 5

    def fails() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await thread_to_the_end(fails)


async def test_cancelled_it_waits_for_the_thread_to_return_first() -> None:
    """A session handed to the thread is the caller's again only once the thread is done."""
    started, go_on = threading.Event(), threading.Event()
    finished: list[bool] = []

    def work() -> None:
        started.set()
        go_on.wait(10)
        finished.append(True)

    task = asyncio.create_task(thread_to_the_end(work))
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # still waiting for the thread, cancelled or not
    task.cancel()  # a second cancellation waits all the same
    await asyncio.sleep(0.05)
    assert not task.done() and not finished
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == [True]
