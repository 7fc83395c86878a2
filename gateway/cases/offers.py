"""Offers to doctors: send one, take an acceptance or a refusal, remind, expire, move on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.cases.flow import NO_THREAD, CaseFlow, Incoming
from gateway.outbox.queue import Thread
from gateway.replies.facts import ReplyKind
from gateway.routing.plan import PlannedTarget
from gateway.storage import repo
from gateway.storage.models import Case, CaseStatus, Offer, OfferKind, OfferStatus
from gateway.wording import say
from parsers.request import Request

__all__ = [
    "accept",
    "after_te_decline",
    "decline",
    "expire",
    "next_signalement_offer",
    "remind",
    "send_offer",
    "withdraw_pending",
]


def send_offer(
    flow: CaseFlow,
    case: Case,
    request: Request,
    kind: OfferKind,
    target: PlannedTarget,
    *,
    created_by: str = "aiguilleur",
) -> Offer:
    assert case.id is not None
    rank = flow.next_offer_rank(case)
    deadline = flow.now + timedelta(hours=flow.config.routing.offer_deadline_hours)
    offer = Offer(
        case_id=case.id,
        kind=kind.value,
        rank=rank,
        doctor_rpps=target.rpps,
        doctor_name=target.name,
        doctor_email=target.email.lower(),
        status=OfferStatus.PENDING,
        sent_at=flow.now,
        deadline_at=deadline,
        created_by=created_by,
    )
    # Its mail names it by id: written at once, not through a flush of the whole session.
    offer_id = repo.insert_now(flow.session, offer)
    cause = f"offer:{offer_id}"
    offer.message_id = flow.mailer.message_id_for(cause)
    mail_kind = ReplyKind.OFFER if kind == OfferKind.SIGNALEMENT else ReplyKind.TE_REQUEST
    attachments = flow.original(case) if mail_kind == ReplyKind.TE_REQUEST else ()
    # A requis sees who asks; a GP learns the signaleur's contact only once they accept.
    te = mail_kind == ReplyKind.TE_REQUEST
    flow.to_party(
        case,
        mail_kind,
        offer.doctor_email,
        cause,
        brief=request,
        attachments=attachments,
        deadline_at=deadline,
        requester_email=case.sender if te else None,
        requester_name=flow.requester_name(case, request) if te else None,
    )
    repo.add_event(
        flow.session,
        case.id,
        "offer_sent",
        {"offer_id": offer.id, "rpps": target.rpps, "kind": kind.value, "rank": rank},
    )
    return offer


def next_signalement_offer(flow: CaseFlow, case: Case, cause: str) -> None:
    """After a refusal or an expiry: the next GP, or the coordinators."""
    request = flow.request_of(case)
    assessment = flow.assess(case, request)
    if assessment.plan.action == "offer_sequence":
        send_offer(flow, case, request, OfferKind.SIGNALEMENT, assessment.plan.targets[0])
        case.status = CaseStatus.ROUTED
        case.updated_at = flow.now
    else:
        flow.escalate(
            case,
            say("cases.escalate.no_other_gp"),
            None,
            cause,
        )


def after_te_decline(flow: CaseFlow, case: Case, offer: Offer, cause: str) -> None:
    """A requis refused or let the deadline pass: the group, else the coordinators."""
    if flow.pending_offers(case):
        return  # others in the group may still accept
    if offer.kind == OfferKind.TE_NAMED:
        request = flow.request_of(case)
        # The named requis is now excluded as already offered: this yields the group.
        assessment = flow.assess(case, request)
        if assessment.plan.action == "te_group" or assessment.plan.action == "te_named":
            for target in assessment.plan.targets:
                send_offer(flow, case, request, OfferKind.TE_GROUP, target)
            return
    flow.escalate(
        case,
        say("cases.escalate.no_requis"),
        None,
        cause,
    )


def accept(
    flow: CaseFlow, case: Case, offer: Offer, incoming: Incoming | None, *, confirm: bool
) -> None:
    assert case.id is not None
    offer.status = OfferStatus.ACCEPTED
    offer.answered_at = flow.now
    case.doctor_rpps = offer.doctor_rpps
    case.doctor_name = offer.doctor_name
    case.updated_at = flow.now
    repo.add_event(
        flow.session,
        case.id,
        "offer_accepted",
        {"offer_id": offer.id, "rpps": offer.doctor_rpps},
    )
    withdraw_pending(
        flow,
        case,
        say("cases.withdrawn.taken_by_colleague"),
        lambda other: f"offer:{other.id}:withdrawn",
        keep=offer.id,
    )
    if offer.kind == OfferKind.SIGNALEMENT:
        case.status = CaseStatus.COMPLETED
        case.closed_at = flow.now
    else:
        case.status = CaseStatus.ACCEPTED
    if confirm:
        flow.to_party(
            case,
            ReplyKind.OFFER_CONFIRMED,
            offer.doctor_email,
            f"offer:{offer.id}:confirmed",
            brief=flow.request_of(case),
            identity=True,
            thread=incoming.thread if incoming else NO_THREAD,
            requester_email=case.sender,
        )
    accepted = flow.facts(case, ReplyKind.ACCEPTED, doctor_email=offer.doctor_email)
    flow.to_sender(case, accepted, f"offer:{offer.id}:accepted")


def decline(flow: CaseFlow, case: Case, offer: Offer, status: OfferStatus, cause: str) -> None:
    """A refusal or an expiry: record it, then offer the case on (or escalate)."""
    assert case.id is not None
    offer.status = status
    repo.add_event(
        flow.session,
        case.id,
        f"offer_{status.value}",  # offer_refused, offer_expired
        {"offer_id": offer.id, "rpps": offer.doctor_rpps},
    )
    if offer.kind == OfferKind.SIGNALEMENT:
        next_signalement_offer(flow, case, cause)
    else:
        after_te_decline(flow, case, offer, cause)


def expire(flow: CaseFlow, case: Case, offer: Offer) -> None:
    offer.answered_at = flow.now
    decline(flow, case, offer, OfferStatus.EXPIRED, f"offer:{offer.id}:expired")


def remind(flow: CaseFlow, case: Case, offer: Offer) -> None:
    assert case.id is not None
    offer.reminded_at = flow.now
    flow.to_party(
        case,
        ReplyKind.REMINDER,
        offer.doctor_email,
        f"offer:{offer.id}:reminder",
        brief=flow.request_of(case),
        thread=Thread(in_reply_to=offer.message_id),
        deadline_at=offer.deadline_at,
    )
    repo.add_event(flow.session, case.id, "offer_reminded", {"offer_id": offer.id})


def withdraw_pending(
    flow: CaseFlow,
    case: Case,
    why_fr: str,
    cause_of: Callable[[Offer], str],
    *,
    keep: int | None = None,
) -> None:
    """Withdraw every pending offer of ``case`` but ``keep``, and tell each doctor why."""
    for offer in flow.pending_offers(case):
        if offer.id == keep:
            continue
        offer.status = OfferStatus.WITHDRAWN
        offer.answered_at = flow.now
        flow.to_party(
            case,
            ReplyKind.OFFER_WITHDRAWN,
            offer.doctor_email,
            cause_of(offer),
            lines_fr=[why_fr],
        )
