"""Messages kept without being handled: their bytes stay, their writer is told why.

A message lands here when it is over the size limit or when every attempt to
handle it failed; a coordinator releases or discards it from the web UI.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from gateway.errors import GatewayError
from gateway.outbox.queue import Mailer, Thread
from gateway.replies.facts import ReplyFacts, ReplyIssue, ReplyKind
from gateway.storage import repo
from gateway.storage.models import InboundMessage, InboundStatus
from gateway.wording import say
from parsers.envelope import envelope_from_raw
from parsers.loop_guard import no_reply_reason

__all__ = ["NotQuarantinedError", "discard", "quarantine", "quarantine_reply", "release"]

_ISSUES = {
    ReplyKind.TOO_LARGE: ("message.too_large", "quarantine.too_large", "too-long"),
    ReplyKind.UNREADABLE: ("message.unprocessable", "quarantine.unprocessable", "processing"),
}


def quarantine_reply(
    mailer: Mailer, row: InboundMessage, kind: ReplyKind, own: frozenset[str]
) -> str | None:
    """Tell the writer their message is kept for a coordinator, unless no reply is due."""
    assert row.id is not None
    envelope = envelope_from_raw(repo.inbound_raw(mailer.session, row.id) or b"")
    if no_reply_reason(envelope, own) is not None:
        return None
    recipient = envelope.reply_to or envelope.from_addr
    if recipient is None:
        return None
    code, wording, fhir_code = _ISSUES[kind]
    facts = ReplyFacts(
        kind=kind,
        reference=None,
        programme=None,
        task_status="failed",
        business_status="quarantaine",
        business_status_fr=say("quarantine.status"),
        issues=[ReplyIssue(code=code, diagnostics_fr=say(wording), fhir_code=fhir_code)],
        received_at=row.received_at,
        structure_name=mailer.config.replies.structure_name,
    )
    queued = mailer.send(
        facts,
        to=recipient,
        cause_key=f"inbound:{row.id}:{kind.value}",
        case=None,
        thread=Thread(
            subject=envelope.subject,
            in_reply_to=envelope.message_id,
            references=tuple(envelope.references),
        ),
        inbound_id=row.id,
    )
    return kind.value if queued else None


def quarantine(
    mailer: Mailer,
    row: InboundMessage,
    now: datetime,
    *,
    error: str,
    kind: ReplyKind,
    own: frozenset[str],
) -> str | None:
    """Mark ``row`` quarantined (in the caller's transaction) and queue the writer's notice."""
    row.status = InboundStatus.QUARANTINED
    row.error = error
    row.lease_until = None
    row.updated_at = now
    return quarantine_reply(mailer, row, kind, own)


class NotQuarantinedError(GatewayError):
    """No message with this id is in quarantine (any more): nothing to release or discard."""

    def __init__(self, inbound_id: int) -> None:
        super().__init__(f"inbound message {inbound_id} is not quarantined")
        self.inbound_id = inbound_id


def _quarantined(session: Session, inbound_id: int) -> InboundMessage:
    message = session.get(InboundMessage, inbound_id)
    if message is None or message.status != InboundStatus.QUARANTINED:
        raise NotQuarantinedError(inbound_id)
    return message


def release(session: Session, inbound_id: int, *, now: datetime) -> InboundMessage:
    """Put a quarantined message back in the pipeline's queue, due at once, with fresh
    attempts (in the caller's transaction). Its ``error`` still says why it was kept."""
    message = _quarantined(session, inbound_id)
    message.status = InboundStatus.RECEIVED
    message.attempts = 0
    message.next_attempt_at = now
    message.lease_until = None
    message.lease_owner = None
    message.updated_at = now
    session.add(message)
    return message


def discard(
    session: Session, inbound_id: int, *, by: str, reason: str, now: datetime
) -> InboundMessage:
    """Take a quarantined message out of every queue for good (caller's transaction): it is
    kept with its raw bytes, "ignored", its ``error`` saying who discarded it and why."""
    message = _quarantined(session, inbound_id)
    message.status = InboundStatus.IGNORED
    message.error = f"discarded by {by}" + (f": {reason}" if reason else "")
    message.updated_at = now
    session.add(message)
    return message
