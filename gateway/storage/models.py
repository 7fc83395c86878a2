"""Tables. The status columns play the part of durable queues between stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Case",
    "CaseEvent",
    "CaseStatus",
    "InboundMessage",
    "InboundRaw",
    "InboundStatus",
    "MailboxCursor",
    "Offer",
    "OfferKind",
    "OfferStatus",
    "OutboundMessage",
    "OutboundRaw",
    "OutboundStatus",
    "ReferenceCounter",
    "RetentionRun",
    "RoutingCounter",
    "RuleResultRow",
    "TeleExpertiseAct",
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


class OfferKind(StrEnum):
    SIGNALEMENT = "signalement"  # sequential offers to GPs
    TE_NAMED = "te_named"  # the requis named by the requérant
    TE_GROUP = "te_group"  # broadcast to the filière; first acceptance wins
    DAC_TEAM = "dac_team"  # referral to the DAC team (no answer expected)


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"  # deadline passed without an answer
    BOUNCED = "bounced"  # the offer could not be delivered (a DSN came back)
    WITHDRAWN = "withdrawn"  # someone else accepted, or a coordinator took over
    ANSWERED = "answered"  # TE: the avis came back and was relayed


class OutboundStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure, visible to coordinators
    BOUNCED = "bounced"  # accepted by the server, then returned undelivered (a DSN)


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_mailbox_uid"),
        UniqueConstraint("mailbox", "source_key", name="uq_inbound_mailbox_source_key"),
        Index("ix_inbound_msgid_hash", "message_id", "content_sha256"),
        # Every column a claim filters on: on SQLite, status and lease sit after the bytes
        # (overflow pages), so a claim that read them from the row read every skipped mail.
        Index("ix_inbound_due", "status", "next_attempt_at", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=64)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too big for a signed INTEGER.
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    uid: int | None = Field(default=None, sa_column=Column(BigInteger))
    source_key: str | None = Field(default=None, max_length=255)  # Maildir file name
    message_id: str | None = Field(default=None, max_length=998)
    content_sha256: str = Field(max_length=64)
    size: int  # of its bytes, in ``InboundRaw``
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


# A mail's bytes sit in a row of their own, written once: a lease or a status change then
# rewrites a row of a hundred bytes. In the mail's row, every UPDATE rewrote its overflow
# pages (35 KB for a request with a form), four times per request, and journaled them.
# Retention empties them (b""); they are never deleted, so every mail has its row.


class InboundRaw(SQLModel, table=True):
    __tablename__ = "inbound_raw"

    inbound_id: int = Field(primary_key=True, foreign_key="inbound_message.id")
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class OutboundRaw(SQLModel, table=True):
    __tablename__ = "outbound_raw"

    outbound_id: int = Field(primary_key=True, foreign_key="outbound_message.id")
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


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
    # Denormalised for the routing log's filters and search.
    decision: str | None = Field(default=None, max_length=16)  # eligible|ineligible|…
    doctor_rpps: str | None = Field(default=None, max_length=11, index=True)
    doctor_name: str | None = Field(default=None, max_length=200)
    patient_family_name: str | None = Field(default=None, max_length=120, index=True)
    patient_ins: str | None = Field(default=None, max_length=15, index=True)
    closed_at: datetime | None = None
    # Set when the retention policy reduced the closed case to its audit trail.
    reduced_at: datetime | None = None


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
        # Covering indexes (see InboundMessage): claims and the queue's depth and age;
        # the hourly reply limits per address; the metrics' counts by kind and status.
        Index("ix_outbound_due", "status", "next_attempt_at", "lease_until", "created_at"),
        Index("ix_outbound_recipient_recent", "recipient", "created_at", "kind"),
        Index("ix_outbound_kind_status", "kind", "status"),
        Index("ix_outbound_message_id", "message_id"),  # a returned DSN names it
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    cause_key: str = Field(max_length=200)  # what caused this reply; unique, so it is queued once
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=320)
    message_id: str = Field(max_length=255)
    subject: str = Field(sa_column=Column(Text, nullable=False))  # its bytes: ``OutboundRaw``
    status: str = Field(default=OutboundStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # What the returned DSN said: its status code (5.1.1) and Diagnostic-Code.
    bounced_at: datetime | None = None
    dsn_status: str | None = Field(default=None, max_length=16)
    dsn_diagnostic: str | None = Field(default=None, sa_column=Column(Text))


@dataclass(frozen=True, slots=True)
class NewOutbound:
    """A mail to queue, as its sender knows it; the row's other columns start at their
    defaults. Plain data: the table model's constructor cost 55 µs for nothing read back."""

    cause_key: str
    kind: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes
    created_at: datetime
    next_attempt_at: datetime
    case_id: int | None = None
    inbound_id: int | None = None


class RuleResultRow(SQLModel, table=True):
    """Every rule result of every evaluation, passed or not, kept with the case."""

    __tablename__ = "rule_result"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    evaluation: int = 1  # re-running the rules (follow-up, correction) adds a new round
    position: int = 0
    rule_id: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    reason_fr: str = Field(sa_column=Column(Text, nullable=False))
    evidence_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    evaluated_at: datetime = Field(default_factory=utcnow)


class Offer(SQLModel, table=True):
    """A case put to a doctor (or the DAC team), and what came of it."""

    __tablename__ = "offer"
    __table_args__ = (Index("ix_offer_status_deadline", "status", "deadline_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=16)
    rank: int = 1  # order within the case
    doctor_rpps: str | None = Field(default=None, max_length=11, index=True)
    doctor_name: str = Field(max_length=200)
    doctor_email: str = Field(max_length=320, index=True)
    status: str = Field(default=OfferStatus.PENDING, max_length=16)
    message_id: str | None = Field(default=None, max_length=255, index=True)
    sent_at: datetime = Field(default_factory=utcnow)
    deadline_at: datetime | None = None
    reminded_at: datetime | None = None
    answered_at: datetime | None = None
    answer_inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    created_by: str = Field(default="aiguilleur", max_length=120)


class TeleExpertiseAct(SQLModel, table=True):
    """A billed télé-expertise act: TE2 for the requis, RQD for the requérant."""

    __tablename__ = "tele_expertise_act"
    __table_args__ = (
        UniqueConstraint("case_id", "code", name="uq_act_case_code"),
        Index("ix_act_patient_requis", "patient_key", "requis_rpps", "performed_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    code: str = Field(max_length=8)  # TE2 | RQD
    professional_rpps: str | None = Field(default=None, max_length=11, index=True)
    professional_email: str = Field(max_length=320)
    professional_name: str | None = Field(default=None, max_length=200)
    requis_rpps: str | None = Field(default=None, max_length=11)
    # A keyed hash of the patient's identity: counts the quota without storing it twice.
    patient_key: str = Field(max_length=64)
    filiere: str | None = Field(default=None, max_length=64)
    performed_on: date = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


class RoutingCounter(SQLModel, table=True):
    """Named counters that must survive restarts, e.g. the GP round-robin cursor."""

    __tablename__ = "routing_counter"

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class RetentionRun(SQLModel, table=True):
    """One pass of the retention policy: when, under which policy, and what it purged."""

    __tablename__ = "retention_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    complete: bool = False  # False: stopped at its batch budget, the next pass goes on
    policy_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    counts_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
