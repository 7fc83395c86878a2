"""Delivery reports (DSN) for our own mails: the mail is marked bounced, and its case moves on.

A DSN names the mail it returns by the deterministic Message-ID we gave it (read by
``parsers.dsn``); nothing else ties a report to a mail, so a report naming no mail of ours
is left to the caller, which ignores it. Only a failure bounces the mail; a delay is noted
on the timeline. What a bounce means depends on the mail:

- an offer (or its reminder) to a doctor whose offer is pending: the offer is declined
  as ``bounced``, as a refusal would be, and the case goes to the next doctor;
- any other mail of a case (an acknowledgement to the professional, a notice…): the
  coordinators are alerted, since the reader never got it;
- a coordinator alert or an MDN: only recorded (alerting about an alert could loop).

Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy import func
from sqlmodel import Session, col, select

from gateway.cases.flow import CaseFlow, Incoming
from gateway.cases.offers import decline
from gateway.replies.facts import ReplyKind
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import (
    Case,
    Offer,
    OfferKind,
    OfferStatus,
    OutboundMessage,
    OutboundStatus,
)
from gateway.wording import label, say
from parsers.dsn import DsnRecipient

__all__ = [
    "ReportTaken",
    "find_outbound",
    "refused_offer_mails",
    "take_delivery_report",
    "take_refused_offer_mail",
    "undeliverable",
]

log = structlog.get_logger("aiguilleur.bounces")

# Offers a doctor answers: one that cannot reach them is declined. A DAC referral expects
# no answer, so its bounce alerts the coordinators instead.
_ANSWERED_OFFERS = frozenset({OfferKind.SIGNALEMENT, OfferKind.TE_NAMED, OfferKind.TE_GROUP})
# Bounced mails no person is told about: an alert about an alert would loop.
_NOT_ALERTED = frozenset({ReplyKind.COORDINATOR_ALERT, ReplyKind.MDN})
# The mails that carry an offer to a doctor.
_OFFER_MAILS = frozenset({ReplyKind.OFFER, ReplyKind.TE_REQUEST, ReplyKind.REMINDER})


@dataclass(frozen=True)
class ReportTaken:
    """A DSN tied to one of our mails, and what it said."""

    case: Case | None
    outbound_id: int
    action: Literal["failed", "delayed"]
    effect: Literal["offer_declined", "coordinators_alerted", "recorded", "already_bounced"]


def find_outbound(session: Session, message_ids: Sequence[str]) -> OutboundMessage | None:
    """Our mail with one of these Message-IDs (the first, most trusted, that matches),
    locked for this transaction."""
    ids = list(dict.fromkeys(message_ids))[:20]
    if not ids:
        return None
    rows = session.exec(
        select(OutboundMessage)
        .where(col(OutboundMessage.message_id).in_(ids))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {row.message_id: row for row in rows}
    return next((by_id[i] for i in ids if i in by_id), None)


def take_delivery_report(flow: CaseFlow, incoming: Incoming) -> ReportTaken | None:
    """Apply a DSN to the mail it returns; None when it names no mail of ours or says
    neither failed nor delayed (the caller then ignores the message)."""
    report = incoming.parsed.delivery_report
    if report is None or report.action is None:
        return None
    row = find_outbound(flow.session, report.message_ids)
    if row is None or row.id is None:
        return None
    recipient = report.recipient_for(row.recipient)
    assert recipient is not None  # the report has an action, so a recipient with it
    case = flow.session.get(Case, row.case_id) if row.case_id is not None else None
    if case is not None:
        case = repo.lock_case(flow.session, case)
    if report.action == "delayed":
        _event(flow, case, CaseEventKind.REPLY_DELAYED, row, recipient)
        log.info("delivery_delayed", outbound_id=row.id, kind=row.kind, status=recipient.status)
        return ReportTaken(case, row.id, "delayed", "recorded")
    if row.status == OutboundStatus.BOUNCED:
        return ReportTaken(case, row.id, "failed", "already_bounced")
    row.status = OutboundStatus.BOUNCED
    row.bounced_at = flow.now
    row.dsn_status = recipient.status
    row.dsn_diagnostic = recipient.diagnostic
    row.lease_until = None  # a report for a mail still claimed: it is not to be sent again
    flow.session.add(row)
    _event(flow, case, CaseEventKind.REPLY_BOUNCED, row, recipient)
    effect = undeliverable(flow, case, row, recipient.status, recipient.diagnostic)
    log.warning(
        "reply_bounced", outbound_id=row.id, kind=row.kind, status=recipient.status, effect=effect
    )
    return ReportTaken(case, row.id, "failed", effect)


def _event(
    flow: CaseFlow,
    case: Case | None,
    kind: CaseEventKind,
    row: OutboundMessage,
    recipient: DsnRecipient,
) -> None:
    if case is None or case.id is None:
        return
    repo.add_event(
        flow.session,
        case.id,
        kind,
        {
            "kind": row.kind,
            "to": row.recipient,
            "message_id": row.message_id,
            "delivery_status": recipient.status,
            "error": recipient.diagnostic,
        },
    )


def undeliverable(
    flow: CaseFlow,
    case: Case | None,
    row: OutboundMessage,
    status: str | None,
    diagnostic: str | None,
) -> Literal["offer_declined", "coordinators_alerted", "recorded"]:
    """What a mail that cannot reach its reader does to its case: a bounce (DSN), or a
    refusal by our own relay (5xx, found by the timers: ``refused_offer_mails``)."""
    if case is None:
        return "recorded"
    offer = _pending_offer(flow, case, row.recipient)
    if offer is not None:
        offer.answered_at = flow.now
        decline(flow, case, offer, OfferStatus.BOUNCED, f"bounce:{row.id}")
        return "offer_declined"
    if row.kind in _NOT_ALERTED:
        return "recorded"
    reason = say(
        "cases.bounce.alert",
        mail=label("subject", row.kind, row.kind),
        to=row.recipient,
        status=status or say("cases.bounce.no_status"),
    )
    if diagnostic:
        reason += " " + say("cases.bounce.server_said", diagnostic=diagnostic)
    flow.alert_coordinators(case, reason, f"bounce:{row.id}")
    return "coordinators_alerted"


def refused_offer_mails(session: Session) -> list[int]:
    """Offer mails our relay refused for good (``failed``) while the offer still waits for
    that doctor: nobody will ever answer it, so it is declined as a bounce would be."""
    ids = session.exec(
        select(OutboundMessage.id)
        .join(
            Offer,
            (col(Offer.case_id) == col(OutboundMessage.case_id))
            & (col(Offer.doctor_email) == func.lower(col(OutboundMessage.recipient))),
        )
        .where(
            col(OutboundMessage.status) == OutboundStatus.FAILED,
            col(OutboundMessage.kind).in_(list(_OFFER_MAILS)),
            col(Offer.status) == OfferStatus.PENDING,
            col(Offer.kind).in_(list(_ANSWERED_OFFERS)),
        )
        .distinct()
    ).all()
    return [i for i in ids if i is not None]


def take_refused_offer_mail(flow: CaseFlow, outbound_id: int) -> bool:
    """Decline the offer a refused mail carried; False if answered meanwhile."""
    row = flow.session.get(OutboundMessage, outbound_id)
    if row is None or row.case_id is None or row.status != OutboundStatus.FAILED:
        return False
    case = repo.lock_case(flow.session, flow.session.get_one(Case, row.case_id))
    if _pending_offer(flow, case, row.recipient) is None:
        return False
    code = (row.last_error or "").split(" ", 1)[0] or None  # "550 5.1.1 …": the reply code
    return undeliverable(flow, case, row, code, row.last_error) == "offer_declined"


def _pending_offer(flow: CaseFlow, case: Case, address: str) -> Offer | None:
    """The pending offer of this case to ``address``: its mails cannot reach the doctor."""
    return next(
        (
            offer
            for offer in flow.pending_offers(case)
            if offer.doctor_email == address.lower() and offer.kind in _ANSWERED_OFFERS
        ),
        None,
    )
