"""Stored mails built by hand, and their bytes read back (kept apart from the rows)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from gateway.storage import repo
from gateway.storage.models import InboundMessage, InboundRaw, OutboundMessage, OutboundRaw

__all__ = ["add_inbound", "add_outbound", "raw_of"]


def add_inbound(db: Session, raw: bytes, **columns: Any) -> InboundMessage:
    """A received mail with its bytes, as ingest stores it; flushed, so it has its id."""
    row = InboundMessage(size=len(raw), **columns)
    db.add(row)
    db.flush()
    assert row.id is not None
    db.add(InboundRaw(inbound_id=row.id, raw=raw))
    return row


def add_outbound(db: Session, raw: bytes, **columns: Any) -> OutboundMessage:
    """A queued mail with its bytes; flushed, so it has its id."""
    row = OutboundMessage(**columns)
    db.add(row)
    db.flush()
    assert row.id is not None
    db.add(OutboundRaw(outbound_id=row.id, raw=raw))
    return row


def raw_of(db: Session, row: InboundMessage | OutboundMessage) -> bytes:
    """The bytes stored for ``row`` (``b""`` once retention emptied them)."""
    assert row.id is not None
    if isinstance(row, InboundMessage):
        found = repo.inbound_raw(db, row.id)
    else:
        found = repo.outbound_raw(db, row.id)
    assert found is not None, f"no bytes stored for {type(row).__name__} {row.id}"
    return found
