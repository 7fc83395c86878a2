"""Tables. The status columns play the part of durable queues between stages."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Case",
    "CaseEvent",
    "CaseStatus",
    "InboundMessage",
    "InboundStatus",
    "MailboxCursor",
    "OutboundMessage",
    "OutboundStatus",
    "ReferenceCounter",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class InboundStatus(StrEnum):
    RECEIVED = "received"  # raw bytes committed; nothing else done yet
    PARSED = "parsed"  # parse result stored; decision not yet committed
    PROCESSED = "processed"  # case updated and reply (if any) queued, atomically
    IGNORED = "ignored"  # not a request (auto-reply, bounce, our own mail); reason stored
    DUPLICATE = "duplicate"  # same Message-ID and content as an earlier message
    QUARANTINED = "quarantined"  # failed max_attempts times; raw bytes kept


class CaseStatus(StrEnum):
    RECEIVED = "received"
    INCOMPLETE = "incomplete"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    REJECTED = "rejected"
    ROUTED = "routed"
    WAITING_COORDINATOR = "waiting_coordinator"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CLOSED = "closed"


class OutboundStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure, visible to coordinators


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_mailbox_uid"),
        UniqueConstraint("mailbox", "source_key", name="uq_inbound_mailbox_source_key"),
        Index("ix_inbound_msgid_hash", "message_id", "content_sha256"),
        Index("ix_inbound_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=64)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for a signed INTEGER.
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    uid: int | None = Field(default=None, sa_column=Column(BigInteger))
    source_key: str | None = Field(default=None, max_length=255)  # Maildir file name
    message_id: str | None = Field(default=None, max_length=998)
    content_sha256: str = Field(max_length=64)
    size: int
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=InboundStatus.RECEIVED, max_length=16)
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # A claim is a lease, not a status, so a crashed worker's stage is kept and resumed.
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=120)
    parsed_json: str | None = Field(default=None, sa_column=Column(Text))
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    received_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MailboxCursor(SQLModel, table=True):
    __tablename__ = "mailbox_cursor"

    mailbox: str = Field(primary_key=True, max_length=64)
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    connected: bool = False
    last_sync_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    reconnects: int = 0


class ReferenceCounter(SQLModel, table=True):
    __tablename__ = "reference_counter"

    year: int = Field(primary_key=True)
    last: int = 0


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    programme: str = Field(max_length=32, index=True)
    status: str = Field(default=CaseStatus.RECEIVED, max_length=32, index=True)
    mailbox: str = Field(max_length=64)
    sender: str | None = Field(default=None, max_length=320, index=True)
    root_message_id: str | None = Field(default=None, max_length=998, index=True)
    request_json: str | None = Field(default=None, sa_column=Column(Text))
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseEvent(SQLModel, table=True):
    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=48)
    actor: str = Field(default="aiguilleur", max_length=120)
    detail_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_message"
    __table_args__ = (
        UniqueConstraint("cause_key", name="uq_outbound_cause"),
        Index("ix_outbound_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    cause_key: str = Field(max_length=200)  # what caused this reply; unique, so it is queued once
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=320, index=True)
    message_id: str = Field(max_length=255)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=OutboundStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
