"""What a coordinator does to a case: assign, close, correct and re-run the rules, note.

Each action runs inside the caller's transaction, like the daemon's own work: the
case, the offers, the mails it causes and the timeline entry (with who did it)
commit together. The web UI and tests call these; nothing here knows about HTTP.
The French the coordinator, the sender and the doctors read is ``action.*`` in
``gateway/wording/actions.toml``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from gateway.cases.flow import CaseFlow
from gateway.cases.intake import decide
from gateway.cases.offers import send_offer, withdraw_pending
from gateway.errors import GatewayError
from gateway.replies.facts import ReplyKind
from gateway.routing.plan import PlannedTarget
from gateway.routing.strategies import STRATEGIES
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import Case, CaseStatus, Offer, OfferKind
from gateway.storage.web_models import CaseNote
from gateway.wording import label, labels, say
from parsers.request import Request

__all__ = [
    "CLOSE_OUTCOMES",
    "CORRECTABLE_FIELDS",
    "MAX_NOTE_LENGTH",
    "ActionError",
    "add_note",
    "assign_case",
    "close_case",
    "correct_and_rerun",
]

# Outcome code → what the sender reads (``action.outcome.<code>``).
CLOSE_OUTCOMES: dict[str, str] = dict(labels("action.outcome"))  # in the catalogue's order

# Fields a coordinator may correct, as dotted paths of the Request, with their French label
# (``action.field.<path>``), in the order the form lists them.
CORRECTABLE_FIELDS: dict[str, str] = {
    path: label("action.field", path)
    for path in (
        "patient.family_name",
        "patient.given_names",
        "patient.birth_date",
        "patient.postal_code",
        "patient.insee_code",
        "patient.city",
        "patient.has_medecin_traitant",
        "patient.medecin_traitant",
        "situation.ald_declared",
        "situation.arret_travail",
        "situation.sortie_hospitalisation",
        "situation.dsp_active",
        "tele_expertise.filiere",
        "tele_expertise.consent",
        "tele_expertise.question",
    )
}

MAX_NOTE_LENGTH = 5000

_CLOSED = (CaseStatus.CLOSED, CaseStatus.REJECTED)


class ActionError(GatewayError):
    """The action does not apply to this case; the message is French, for the coordinator."""


def _withdraw_pending(flow: CaseFlow, case: Case, why_fr: str, cause: str) -> None:
    withdraw_pending(flow, case, why_fr, lambda offer: f"{cause}:withdraw:{offer.id}")


def assign_case(flow: CaseFlow, case: Case, rpps: str, actor: str) -> Offer:
    """Offer the case to a roster doctor chosen by a coordinator, withdrawing pending offers."""
    assert case.id is not None
    if case.status in _CLOSED or case.status == CaseStatus.COMPLETED:
        raise ActionError(say("action.error.closed_cannot_assign"))
    doctor = flow.services.doctor(rpps)
    if doctor is None:
        raise ActionError(say("action.error.unknown_doctor", rpps=rpps))
    cause = f"case:{case.id}:assign:{flow.now.isoformat()}"
    _withdraw_pending(flow, case, say("action.withdrawn.reassigned"), cause)
    request = Request.model_validate_json(case.request_json or "{}")
    spec = flow.spec(case)
    offer_kind = STRATEGIES[spec.routing].offer_kind if spec is not None else None
    # Strategies with no offers of their own (DAC, outcome) get a named offer, as a TE does.
    kind = OfferKind(offer_kind or OfferKind.TE_NAMED)
    offer = send_offer(flow, case, request, kind, PlannedTarget.of(doctor), created_by=actor)
    case.status = CaseStatus.ROUTED
    case.updated_at = flow.now
    repo.add_event(
        flow.session,
        case.id,
        CaseEventKind.ASSIGNED,
        {"rpps": rpps, "offer_id": offer.id},
        actor=actor,
    )
    return offer


def close_case(flow: CaseFlow, case: Case, outcome: str, message_fr: str, actor: str) -> None:
    """Close with an outcome; the sender receives it, with the coordinator's message."""
    assert case.id is not None
    if outcome not in CLOSE_OUTCOMES:
        raise ActionError(say("action.error.unknown_outcome", outcome=outcome))
    if case.status in _CLOSED:
        raise ActionError(say("action.error.already_closed"))
    cause = f"case:{case.id}:close:{flow.now.isoformat()}"
    _withdraw_pending(flow, case, say("action.withdrawn.closed"), cause)
    case.status = CaseStatus.CLOSED
    case.closed_at = flow.now
    case.updated_at = flow.now
    facts = flow.facts(
        case,
        ReplyKind.CLOSED,
        business_status=outcome,
        business_status_fr=CLOSE_OUTCOMES[outcome],
        text_fr=message_fr.strip() or None,
    )
    flow.to_sender(case, facts, f"{cause}:closed")
    repo.add_event(flow.session, case.id, CaseEventKind.CLOSED, {"outcome": outcome}, actor=actor)


def _coerce(field: str, value: str) -> Any:
    text = value.strip()
    if field == "patient.given_names":
        return [p for p in text.replace(",", " ").split() if p]
    if field.endswith(("has_medecin_traitant", "ald_declared", "arret_travail")) or field in (
        "situation.sortie_hospitalisation",
        "situation.dsp_active",
        "tele_expertise.consent",
    ):
        folded = text.casefold()
        if folded in say("action.answer.yes").split():
            return True
        if folded in say("action.answer.no").split():
            return False
        raise ActionError(say("action.error.yes_or_no"))
    if field == "patient.birth_date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ActionError(say("action.error.bad_date")) from None
    return text or None


def correct_and_rerun(flow: CaseFlow, case: Case, field: str, value: str, actor: str) -> str | None:
    """Correct one field of the request and decide again; returns the reply kind sent."""
    assert case.id is not None
    if field not in CORRECTABLE_FIELDS:
        raise ActionError(say("action.error.not_correctable", field=field))
    if case.status not in (
        CaseStatus.RECEIVED,
        CaseStatus.INCOMPLETE,
        CaseStatus.INELIGIBLE,
        CaseStatus.WAITING_COORDINATOR,
    ):
        raise ActionError(say("action.error.already_routed"))
    data = Request.model_validate_json(case.request_json or "{}").model_dump(mode="json")
    section, _, name = field.partition(".")
    coerced = _coerce(field, value)
    data[section][name] = coerced.isoformat() if isinstance(coerced, date) else coerced
    # The coordinator's word replaces the parser's complaint about that field.
    data["problems"] = [p for p in data.get("problems", []) if p.get("field") != field]
    try:
        request = Request.model_validate(data)
    except ValidationError as exc:
        raise ActionError(
            say("action.error.value_refused", reason=exc.errors()[0]["msg"])
        ) from None
    case.request_json = request.model_dump_json()
    repo.add_event(
        flow.session, case.id, CaseEventKind.FIELD_CORRECTED, {"field": field}, actor=actor
    )
    return decide(flow, case, None)


def add_note(session: Session, case: Case, text: str, *, author: str) -> CaseNote:
    """Add a coordinator's note to the case (caller's transaction); the note row is flushed,
    so its id is known. ``text`` is stripped; empty or over ``MAX_NOTE_LENGTH`` raises."""
    assert case.id is not None
    text = text.strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        raise ActionError(say("action.error.note_length", max=MAX_NOTE_LENGTH))
    note = CaseNote(case_id=case.id, author=author, text=text)
    session.add(note)
    session.flush()
    return note
