"""The one durable step every source shares: commit raw bytes, then tell the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from gateway.storage import repo
from gateway.storage.repo import IncomingRaw

__all__ = ["RawStore"]


class RawStore:
    def __init__(self, engine: Engine, on_stored: Callable[[], None]) -> None:
        self._engine = engine
        self._on_stored = on_stored

    def _commit(
        self,
        items: Sequence[IncomingRaw],
        mailbox: str,
        uidvalidity: int | None,
        last_uid: int | None,
    ) -> list[int]:
        with repo.session_for(self._engine) as session:
            created = repo.store_inbound_batch(session, items)
            repo.update_cursor(
                session, mailbox, uidvalidity=uidvalidity, last_uid=last_uid, synced=True
            )
            session.commit()
        return created

    async def commit(
        self,
        items: Sequence[IncomingRaw],
        *,
        mailbox: str,
        uidvalidity: int | None = None,
        last_uid: int | None = None,
    ) -> list[int]:
        """Returns only after the transaction is durable; only then may the source be touched."""
        created = await asyncio.to_thread(self._commit, items, mailbox, uidvalidity, last_uid)
        if created:
            self._on_stored()
        return created

    def _cursor(self, mailbox: str, **changes: object) -> None:
        with repo.session_for(self._engine) as session:
            repo.update_cursor(session, mailbox, **changes)  # type: ignore[arg-type]
            session.commit()

    async def mark(self, mailbox: str, **changes: object) -> None:
        await asyncio.to_thread(self._cursor, mailbox, **changes)
