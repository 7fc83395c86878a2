"""One IMAP mailbox: fetch, commit, then move to the processed folder; IDLE or poll; reconnect.

Everything still in the watched folder is unprocessed, because processed mail is moved out.
A message committed before a crash but not yet moved is found again, recognised by
mailbox/UIDVALIDITY/UID, and only moved.
"""

from __future__ import annotations

import asyncio
import random

import structlog

from gateway import failpoints
from gateway.config import MailboxConfig
from gateway.errors import ImapError
from gateway.ingest.imap_client import ImapConnection
from gateway.ingest.store import RawStore
from gateway.storage.repo import IncomingRaw
from gateway.waiting import wait_any

__all__ = ["ImapSource"]

log = structlog.get_logger("aiguilleur.ingest.imap")

BACKOFF_START = 1.0
BACKOFF_MAX = 300.0


class ImapSource:
    def __init__(self, mailbox: MailboxConfig, store: RawStore) -> None:
        self._mailbox = mailbox
        self._store = store

    async def _sync(self, conn: ImapConnection, uidvalidity: int) -> int:
        name = self._mailbox.name
        uids = await conn.search_uids()
        batch = self._mailbox.fetch_batch
        for start in range(0, len(uids), batch):
            chunk = uids[start : start + batch]
            fetched = await conn.fetch(chunk)
            items = [
                IncomingRaw(mailbox=name, raw=m.raw, uidvalidity=uidvalidity, uid=m.uid)
                for m in fetched
            ]
            await self._store.commit(
                items, mailbox=name, uidvalidity=uidvalidity, last_uid=max(chunk)
            )
            failpoints.hit("ingest.after_commit")
            # Only now, with the bytes durable, may the server copy go.
            await conn.move([m.uid for m in fetched], self._mailbox.processed_folder)
        if not uids:
            await self._store.mark(name, synced=True)
        else:
            log.info("imap_synced", mailbox=name, messages=len(uids))
        return len(uids)

    async def _pause(self, conn: ImapConnection) -> None:
        if self._mailbox.idle and conn.supports_idle:
            await conn.idle_wait(self._mailbox.idle_timeout)
        else:
            await asyncio.sleep(self._mailbox.poll_interval)

    async def _wait(self, conn: ImapConnection, stop: asyncio.Event) -> None:
        """Until new mail (IDLE) or the poll interval, unless asked to stop first."""

        async def stopped() -> None:
            await stop.wait()

        stopper = asyncio.ensure_future(stopped())
        waiter = asyncio.ensure_future(self._pause(conn))
        done, _ = await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if waiter not in done:
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
        elif (error := waiter.exception()) is not None:
            raise error

    async def run(self, stop: asyncio.Event) -> None:
        name = self._mailbox.name
        backoff = BACKOFF_START
        attempt = 0
        while not stop.is_set():
            conn = ImapConnection(self._mailbox)
            try:
                await conn.connect()
                await conn.ensure_folder(self._mailbox.processed_folder)
                selected = await conn.select(self._mailbox.folder)
                await self._store.mark(name, connected=True, reconnected=attempt > 0)
                # The one "connected" event: logged in and folder selected (bench waits for it).
                log.info("imap_connected", mailbox=name, idle=conn.supports_idle)
                attempt += 1
                backoff = BACKOFF_START
                while not stop.is_set():
                    conn.take_announcement()
                    await self._sync(conn, selected.uidvalidity)
                    if conn.take_announcement():
                        continue  # mail arrived during the sync: IDLE would not report it
                    await self._wait(conn, stop)
            except (ImapError, OSError, TimeoutError) as exc:
                attempt += 1
                delay = min(BACKOFF_MAX, backoff) * random.uniform(0.5, 1.5)
                backoff *= 2
                log.warning(
                    "imap_disconnected",
                    mailbox=name,
                    error_type=type(exc).__name__,
                    error=str(exc)[:200],
                    retry_in=round(delay, 2),
                )
                await self._store.mark(name, connected=False, error=str(exc)[:500])
                await wait_any(stop, timeout=delay)
            finally:
                try:
                    await asyncio.wait_for(conn.logout(), timeout=5)
                except Exception as exc:  # the connection may already be dead
                    log.debug("imap_logout_failed", mailbox=name, error_type=type(exc).__name__)
        await self._store.mark(name, connected=False)
