"""Outbound rows for storage tests: an acknowledgement queued for someone."""

from __future__ import annotations

from datetime import datetime

from gateway.storage.models import NewOutbound, utcnow

__all__ = ["outbound_ack"]


def outbound_ack(
    cause_key: str,
    recipient: str,
    *,
    message_id: str = "<m@x>",
    raw: bytes = b"x",
    created_at: datetime | None = None,
) -> NewOutbound:
    """An ``ack`` for ``recipient``, subject "s", created now unless ``created_at``."""
    return NewOutbound(
        cause_key=cause_key,
        kind="ack",
        recipient=recipient,
        message_id=message_id,
        subject="s",
        raw=raw,
        created_at=created_at or utcnow(),
        next_attempt_at=utcnow(),
    )
