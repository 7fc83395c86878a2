"""Reader tasks by lease: one reader per mailbox across replicas, failover, loss, revival."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gateway.ingest.leases import LeaseRound, MailboxLeases
from gateway.ingest.readers import Readers

BOXES = [f"box{i}" for i in range(4)]
# Short, for a quick test, but with room for a loaded CI machine.
LEASE, RENEW = 4.0, 0.5


class Reading:
    """Fake sources that record who reads what, right now."""

    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.cancelled: list[str] = []

    def source(self, name: str, *, crash_first: bool = False) -> _Source:
        return _Source(self, name, crash_first)


class _Source:
    def __init__(self, reading: Reading, name: str, crash_first: bool) -> None:
        self.reading, self.name, self.crash = reading, name, crash_first

    async def run(self, stop: asyncio.Event) -> None:
        if self.crash:
            self.crash = False
            raise RuntimeError("a bug")
        self.reading.now[self.name] += 1
        try:
            await stop.wait()
        except asyncio.CancelledError:
            self.reading.cancelled.append(self.name)
            raise
        finally:
            self.reading.now[self.name] -= 1


async def test_without_leases_every_mailbox_is_read_and_a_crashed_reader_restarts() -> None:
    reading = Reading()
    sources = {n: reading.source(n, crash_first=n == "box0") for n in BOXES}
    readers = Readers(sources, renew_seconds=0.05)
    await readers.start()
    stop = asyncio.Event()
    task = asyncio.create_task(readers.run(stop))
    for _ in range(100):
        if all(reading.now[n] == 1 for n in BOXES):
            break
        await asyncio.sleep(0.02)
    assert all(reading.now[n] == 1 for n in BOXES) and readers.revived == 1
    stop.set()
    await task
    assert sum(reading.now.values()) == 0 and reading.cancelled == []  # stopped gracefully


class _FailingLeases(MailboxLeases):
    """The database went away after the first round."""

    failing = False

    def round(self) -> LeaseRound:
        if self.failing:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return LeaseRound(frozenset(BOXES), frozenset(), frozenset(), 1)


async def test_readers_stop_at_once_when_the_leases_can_no_longer_be_trusted() -> None:
    reading = Reading()
    clock = [0.0]
    leases = _FailingLeases(None, "a", BOXES, lease_seconds=10, clock=lambda: clock[0])  # type: ignore[arg-type]
    readers = Readers(
        {n: reading.source(n) for n in BOXES}, leases, renew_seconds=0.05, clock=lambda: clock[0]
    )
    await readers.start()
    leases.valid_until = 8.0
    leases.failing = True
    stop = asyncio.Event()
    task = asyncio.create_task(readers.run(stop))
    await asyncio.sleep(0.2)
    assert readers.round_failures >= 1 and readers.reading == frozenset(BOXES)  # still valid
    clock[0] = 9.0  # past what the last good round vouched for
    for _ in range(100):
        if not readers.reading:
            break
        await asyncio.sleep(0.02)
    assert readers.reading == frozenset() and sorted(reading.cancelled) == BOXES
    stop.set()
    await task


async def test_two_replicas_never_read_one_mailbox_and_take_over_a_dead_one(
    pg_engine: Engine,
) -> None:
    reading = Reading()
    replicas = {
        name: Readers(
            {n: reading.source(n) for n in BOXES},
            MailboxLeases(pg_engine, name, BOXES, lease_seconds=LEASE),
            renew_seconds=RENEW,
        )
        for name in ("a", "b")
    }
    stops = {name: asyncio.Event() for name in replicas}
    for readers in replicas.values():
        await readers.start()
    tasks = {n: asyncio.create_task(r.run(stops[n])) for n, r in replicas.items()}
    spread_by = time.monotonic() + 20
    while not all(len(r.reading) == 2 for r in replicas.values()):
        assert max(reading.now.values(), default=0) <= 1, reading.now
        assert time.monotonic() < spread_by, {n: r.reading for n, r in replicas.items()}
        await asyncio.sleep(0.05)
    assert replicas["a"].reading.isdisjoint(replicas["b"].reading)

    # "a" dies: its leases are never given back, so they must expire first.
    dying = replicas["a"]._leases
    assert dying is not None
    dying.leave = lambda: None  # type: ignore[method-assign]
    tasks["a"].cancel()
    died = time.monotonic()
    while replicas["b"].reading != frozenset(BOXES):
        assert time.monotonic() - died < LEASE + 3 * RENEW + 3, "no takeover"
        await asyncio.sleep(0.05)
    assert all(reading.now[n] == 1 for n in BOXES)
    stops["b"].set()
    await tasks["b"]
