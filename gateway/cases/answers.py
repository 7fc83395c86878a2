"""A doctor's message about an offer: acceptance, refusal, an avis to relay, or a person decides."""

from __future__ import annotations

from sqlmodel import col, select

from gateway.cases.flow import CaseFlow, Incoming, local_date
from gateway.cases.offers import accept, decline
from gateway.replies.compose import OutboundAttachment
from gateway.replies.facts import ReplyKind
from gateway.routing.answers import classify_answer, own_text
from gateway.routing.requis import patient_key
from gateway.storage import repo
from gateway.storage.models import Case, CaseStatus, Offer, OfferKind, OfferStatus, TeleExpertiseAct
from gateway.wording import say
from parsers import ParseLimits, list_attachments

__all__ = ["AVIS_MIN_CHARS", "doctor_message"]

# An unclassifiable TE answer this long, or with files, is the avis itself.
AVIS_MIN_CHARS = 200


def doctor_message(flow: CaseFlow, case: Case, offer: Offer, incoming: Incoming) -> str:
    """A message from a doctor the case was offered to. Returns what it was taken as."""
    assert case.id is not None and offer.id is not None
    body = incoming.parsed.body_text or ""
    text = own_text(body, fold=False)
    answer = classify_answer(body)
    files = incoming.parsed.request.attachments
    is_te = offer.kind in (OfferKind.TE_NAMED, OfferKind.TE_GROUP)
    if offer.status == OfferStatus.ACCEPTED and is_te:
        relay_avis(flow, case, offer, incoming, text)
        return "avis"
    if offer.status != OfferStatus.PENDING:
        flow.to_party(
            case,
            ReplyKind.OFFER_WITHDRAWN,
            offer.doctor_email,
            f"inbound:{incoming.row.id}:late",
            thread=incoming.thread,
            lines_fr=[say("cases.withdrawn.already_closed")],
        )
        return "late"
    offer.answer_inbound_id = incoming.row.id
    offer.answered_at = flow.now
    if is_te and answer == "ambiguous" and (files or len(text.strip()) >= AVIS_MIN_CHARS):
        accept(flow, case, offer, incoming, confirm=False)
        relay_avis(flow, case, offer, incoming, text)
        return "avis"
    if answer == "accept":
        accept(flow, case, offer, incoming, confirm=True)
        return "accept"
    if answer == "refuse":
        decline(flow, case, offer, OfferStatus.REFUSED, f"inbound:{incoming.row.id}")
        return "refuse"
    # Ambiguous: a person decides; the offer stays open meanwhile.
    offer.answered_at = None
    case.status = CaseStatus.WAITING_COORDINATOR
    case.updated_at = flow.now
    repo.add_event(
        flow.session,
        case.id,
        "answer_ambiguous",
        {"offer_id": offer.id, "inbound_id": incoming.row.id},
    )
    flow.alert_coordinators(
        case,
        say("cases.escalate.unclear_answer", doctor=offer.doctor_name),
        f"inbound:{incoming.row.id}:ambiguous",
        text[:2000],
    )
    flow.to_party(
        case,
        ReplyKind.ANSWER_FORWARDED,
        offer.doctor_email,
        f"inbound:{incoming.row.id}:forwarded",
        thread=incoming.thread,
    )
    return "ambiguous"


def relay_avis(flow: CaseFlow, case: Case, offer: Offer, incoming: Incoming, text: str) -> None:
    assert case.id is not None
    offer.status = OfferStatus.ANSWERED
    case.status = CaseStatus.COMPLETED
    case.closed_at = flow.now
    case.updated_at = flow.now
    record_acts(flow, case, offer)
    limits = ParseLimits(
        max_message_bytes=flow.config.limits.max_message_bytes,
        max_attachments=flow.config.limits.max_attachments,
    )
    files = attachments_of(flow.raw(incoming), limits)
    avis = flow.facts(
        case, ReplyKind.AVIS, doctor_email=offer.doctor_email, text_fr=text.strip() or None
    )
    flow.to_sender(case, avis, f"inbound:{incoming.row.id}:avis", attachments=files)
    repo.add_event(
        flow.session,
        case.id,
        "avis_relayed",
        {"offer_id": offer.id, "inbound_id": incoming.row.id, "attachments": len(files)},
    )


def record_acts(flow: CaseFlow, case: Case, offer: Offer) -> None:
    assert case.id is not None
    request = flow.request_of(case)
    key = patient_key(request) or f"case:{case.reference}"
    today = local_date(flow.now)
    filiere = request.tele_expertise.filiere
    sender_doctor = next(
        (d for d in flow.services.roster if d.email.lower() == (case.sender or "")), None
    )
    for code, rpps, address, name in (
        ("TE2", offer.doctor_rpps, offer.doctor_email, offer.doctor_name),
        (
            "RQD",
            sender_doctor.rpps if sender_doctor else request.reporter.rpps,
            case.sender or "",
            sender_doctor.name if sender_doctor else None,
        ),
    ):
        exists = flow.session.exec(
            select(TeleExpertiseAct).where(
                col(TeleExpertiseAct.case_id) == case.id, col(TeleExpertiseAct.code) == code
            )
        ).first()
        if exists is None:
            flow.session.add(
                TeleExpertiseAct(
                    case_id=case.id,
                    code=code,
                    professional_rpps=rpps,
                    professional_email=address,
                    professional_name=name,
                    requis_rpps=offer.doctor_rpps,
                    patient_key=key,
                    filiere=filiere,
                    performed_on=today,
                    created_at=flow.now,
                )
            )
    repo.add_event(flow.session, case.id, "acts_recorded", {"codes": ["TE2", "RQD"]})


def attachments_of(raw: bytes, limits: ParseLimits) -> tuple[OutboundAttachment, ...]:
    """The files a doctor attached to an avis (pasted images included), relayed as they are;
    files inside a forwarded mail stay there."""
    found: list[OutboundAttachment] = []
    for part in list_attachments(raw, limits):
        data = None if part.forwarded else part.payload()
        if data is not None:
            found.append(
                OutboundAttachment(
                    filename=part.filename, content_type=part.content_type, data=data
                )
            )
    return tuple(found)
