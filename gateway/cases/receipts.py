"""The MDN (RFC 8098) a message asks for with Disposition-Notification-To.

ANS asks application mailboxes to send one. It is queued in the outbox, in the caller's
transaction, once per message: its cause key is derived from the message, so a replayed
transaction queues nothing twice and its Message-ID is the same. The caller has already
refused automatic mail (auto-submitted, bulk, reports, our own: ``parsers.loop_guard``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import structlog
from sqlalchemy import func
from sqlmodel import col, select

from gateway.cases.flow import CaseFlow, Incoming
from gateway.replies.facts import ReplyFacts, ReplyKind
from gateway.replies.mdn import Disposition, compose_mdn
from gateway.routing.status import status_view
from gateway.storage.models import Case, OutboundMessage
from parsers.loop_guard import no_reply_reason

__all__ = ["receipt_cause", "send_receipt"]

log = structlog.get_logger("aiguilleur.receipts")


def receipt_cause(incoming: Incoming, mailbox_address: str) -> str:
    """One MDN per message and mailbox: keyed by its Message-ID (its row when it has none)."""
    envelope = incoming.parsed.envelope
    key = envelope.message_id_raw or f"inbound:{incoming.row.id}"
    digest = hashlib.sha256(f"{mailbox_address.lower()}|{key}".encode()).hexdigest()[:40]
    return f"mdn:{digest}"


def _wanted(flow: CaseFlow, incoming: Incoming) -> str | None:
    """Where the MDN goes, or None when none is due."""
    parsed = incoming.parsed
    envelope = parsed.envelope
    to = envelope.disposition_notification_to
    if to is None or parsed.report_kind is not None:
        return None
    if no_reply_reason(envelope, flow.config.own_addresses()) is not None:
        return None
    # RFC 8098 2.1: not sent automatically when the Return-Path is absent or names another
    # address (mail delivered by Dovecot always carries one).
    if (envelope.return_path or "").lower() != to:
        log.info("mdn_not_sent", inbound_id=incoming.row.id, reason="return-path differs")
        return None
    return to


def _over_limit(flow: CaseFlow, to: str) -> bool:
    """MDNs have the replies' hourly limit per address, counted apart from the replies."""
    limit = flow.config.replies.rate_limit_per_hour
    if not limit:
        return False
    since = flow.now - timedelta(hours=1)
    count = flow.session.exec(
        select(func.count()).where(
            col(OutboundMessage.recipient) == to,
            col(OutboundMessage.kind) == ReplyKind.MDN.value,
            col(OutboundMessage.created_at) >= since,
        )
    ).one()
    return int(count) >= limit


def _facts(flow: CaseFlow, case: Case | None, incoming: Incoming) -> ReplyFacts:
    received = incoming.row.received_at
    if case is not None:
        return flow.facts(case, ReplyKind.MDN, received_at=received)
    view = status_view("received", None)
    return ReplyFacts(
        kind=ReplyKind.MDN,
        reference=None,
        programme=None,
        task_status=view.task_status,
        business_status=view.code,
        business_status_fr=view.label_fr,
        received_at=received,
        structure_name=flow.config.replies.structure_name,
    )


def send_receipt(
    flow: CaseFlow, incoming: Incoming, case: Case | None, mailbox_address: str
) -> bool:
    """Queue the MDN when the message asks for one; True when it was queued now."""
    to = _wanted(flow, incoming)
    if to is None:
        return False
    if _over_limit(flow, to):
        log.warning("mdn_rate_limited", inbound_id=incoming.row.id)
        return False
    cause = receipt_cause(incoming, mailbox_address)
    envelope = incoming.parsed.envelope
    # Mailer composes replies only; the MDN's own layout needs the same renderer.
    renderer = flow.mailer.renderer
    composed = compose_mdn(
        renderer,
        _facts(flow, case, incoming),
        Disposition(
            to=to,
            final_recipient=mailbox_address,
            original_message_id=envelope.message_id,
            original_subject=envelope.subject,
            original_references=tuple(envelope.references),
            original=flow.raw(incoming),
        ),
        cause_key=cause,
        date=flow.now,
    )
    queued = flow.mailer.queue(
        composed,
        ReplyKind.MDN.value,
        to=to,
        cause_key=cause,
        case_id=case.id if case is not None else None,
        inbound_id=incoming.row.id,
    )
    if queued:
        log.info("mdn_queued", inbound_id=incoming.row.id)
    return queued
