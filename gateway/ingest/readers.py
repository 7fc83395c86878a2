"""One reader task per mailbox this replica may read, restarted if it ever ends on its own.

Without leases (SQLite: one daemon per database) every mailbox is read. With leases
(PostgreSQL), a lease round runs every ``renew_seconds``: readers start for mailboxes
won, stop gracefully for mailboxes given back (then the lease is released), and are
cancelled at once for a lease lost or past its trusted validity, since by then another
replica may be reading that mailbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from gateway.ingest.leases import MailboxLeases
from gateway.loops import LoopHealth

__all__ = ["Readers", "Source"]

log = structlog.get_logger("aiguilleur.ingest.readers")

GRACEFUL_STOP_SECONDS = 30.0


class Source(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


class Readers:
    def __init__(
        self,
        sources: Mapping[str, Source],
        leases: MailboxLeases | None = None,
        *,
        renew_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        loops: LoopHealth | None = None,
    ) -> None:
        self._loops = loops or LoopHealth()
        self._sources = dict(sources)
        self._leases = leases
        self._renew_seconds = renew_seconds
        self._clock = clock
        self._running: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self.round_failures = 0  # consecutive; /readyz is red while it is not 0
        self.revived = 0  # readers restarted after ending on their own

    @property
    def reading(self) -> frozenset[str]:
        return frozenset(self._running)

    async def start(self) -> None:
        """The first lease round, before the daemon reports started: a replica whose name
        is taken refuses to start here (InstanceNameInUseError), reading nothing."""
        if self._leases is None:
            self._start(self._sources)
        else:
            outcome = await asyncio.to_thread(self._leases.round)
            self._start(outcome.held)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._renew_seconds)
                if stop.is_set():
                    break
                try:
                    healthy = self._leases is None or await self._round(self._leases)
                    if not self._revive() and healthy:
                        self.round_failures = 0
                        self._loops.ok("ingest")
                except Exception as exc:  # never the end of ingest: the next round retries
                    self.round_failures += 1
                    self._loops.failed("ingest", exc)
        finally:
            await self._stop(list(self._running), graceful=True)
            if self._leases is not None:
                try:
                    await asyncio.to_thread(self._leases.leave)
                except (SQLAlchemyError, OSError) as exc:  # they expire on their own
                    log.warning("mailbox_leases_not_released", error=type(exc).__name__)

    async def _expire(self) -> None:
        if self._running:
            log.error("mailbox_leases_expired", mailboxes=sorted(self._running))
            await self._stop(list(self._running), graceful=False)

    async def _round(self, leases: MailboxLeases) -> bool:
        """One lease round; returns whether it succeeded."""
        pending = asyncio.ensure_future(asyncio.to_thread(leases.round))
        # A round that is merely slow (a busy database, a long pause) must not let readers
        # run past what the last good round vouched for: another replica may take over then.
        remaining = max(0.0, leases.valid_until - self._clock())
        done, _ = await asyncio.wait([pending], timeout=remaining)
        if not done:
            await self._expire()
            await asyncio.wait([pending])
        try:
            outcome = pending.result()
        except (SQLAlchemyError, OSError) as exc:
            self.round_failures += 1
            self._loops.failed("ingest", exc)  # retried at the next round
            if self._clock() > leases.valid_until:
                await self._expire()
            return False
        if outcome.lost:
            log.warning("mailbox_lease_lost", mailboxes=sorted(outcome.lost))
            await self._stop(outcome.lost, graceful=False)
        if outcome.surplus:
            await self._stop(outcome.surplus, graceful=True)
            try:
                await asyncio.to_thread(leases.release, sorted(outcome.surplus))
                log.info("mailbox_leases_given_back", mailboxes=sorted(outcome.surplus))
            except (SQLAlchemyError, OSError) as exc:  # they expire instead; nobody reads them
                log.warning("mailbox_leases_not_released", error=type(exc).__name__)
        self._start(outcome.held)
        return True

    def _revive(self) -> bool:
        """A reader that ended on its own (a bug, or its database write failed: network
        errors it retries itself) starts again: a mailbox is never left unread while the
        daemon runs. Returns whether one had ended."""
        ended = False
        for name, (task, _) in list(self._running.items()):
            if not task.done():
                continue
            del self._running[name]
            error = None if task.cancelled() else task.exception()
            log.error(
                "mailbox_reader_ended",
                mailbox=name,
                error=type(error).__name__ if error else None,
            )
            self.revived += 1
            ended = True
            if error is not None:
                self._loops.failed("ingest", error)
            self._start([name])
        return ended

    def _start(self, names: Iterable[str]) -> None:
        for name in sorted(names):
            if name in self._running or name not in self._sources:
                continue
            stop = asyncio.Event()
            task = asyncio.create_task(self._sources[name].run(stop), name=f"reader-{name}")
            self._running[name] = (task, stop)
            log.info("mailbox_reading", mailbox=name)

    async def _stop(self, names: Iterable[str], *, graceful: bool) -> None:
        stopping = [(n, *self._running.pop(n)) for n in sorted(names) if n in self._running]
        for _, task, stop in stopping:
            stop.set()
            if not graceful:
                task.cancel()
        for name, task, _ in stopping:
            done, _ = await asyncio.wait(
                [task], timeout=GRACEFUL_STOP_SECONDS if graceful else None
            )
            if not done:  # a graceful stop that does not come: it is cancelled after all
                task.cancel()
                await asyncio.wait([task])
            if not task.cancelled() and task.exception() is not None:
                log.warning(
                    "mailbox_reader_failed", mailbox=name, error=type(task.exception()).__name__
                )
            log.info("mailbox_stopped", mailbox=name, graceful=graceful)
