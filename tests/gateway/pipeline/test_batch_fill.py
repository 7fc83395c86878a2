"""How the decider fills a batch: what is ready, then what parses under way bring."""

from __future__ import annotations

import asyncio

from gateway.pipeline.worker import _fill, _Prepared


def _queue(*ids: int) -> asyncio.Queue[_Prepared]:
    queue: asyncio.Queue[_Prepared] = asyncio.Queue()
    for i in ids:
        queue.put_nowait(_Prepared(i))
    return queue


async def test_with_nothing_under_way_a_batch_takes_what_is_ready_and_waits_for_nothing() -> None:
    ready = _queue(2, 3)
    items = [_Prepared(1)]
    # A long wait: were it waited, the test would time out.
    await asyncio.wait_for(_fill(items, ready, 8, lambda: False, wait=3600), timeout=5)
    assert [i.inbound_id for i in items] == [1, 2, 3] and ready.empty()


async def test_a_batch_waits_for_parses_under_way_up_to_its_size() -> None:
    ready = _queue()
    under_way = [2, 3, 4, 5]

    async def parses() -> None:
        while under_way:
            await asyncio.sleep(0.01)
            ready.put_nowait(_Prepared(under_way.pop(0)))

    producer = asyncio.create_task(parses())
    items = [_Prepared(1)]
    await _fill(items, ready, 3, lambda: bool(under_way), wait=3600)
    assert [i.inbound_id for i in items] == [1, 2, 3]  # full: it stopped at its size
    await producer
    assert [ready.get_nowait().inbound_id for _ in range(2)] == [4, 5]  # left for the next


async def test_a_batch_stops_waiting_once_its_time_is_up_and_loses_nothing() -> None:
    ready = _queue()
    items = [_Prepared(1)]
    await _fill(items, ready, 8, lambda: True, wait=0.05)  # a parse that never ends
    assert [i.inbound_id for i in items] == [1]
    ready.put_nowait(_Prepared(2))  # what comes later is still there for the next batch
    assert ready.get_nowait().inbound_id == 2
