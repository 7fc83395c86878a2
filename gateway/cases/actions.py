"""What a coordinator does to a case: assign, close, correct and re-run the rules.

Each action runs inside the caller's transaction, like the daemon's own work: the
case, the offers, the mails it causes and the timeline entry (with who did it)
commit together. The web UI and tests call these; nothing here knows about HTTP.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from gateway.cases.flow import CaseFlow
from gateway.cases.intake import decide
from gateway.cases.offers import send_offer
from gateway.errors import GatewayError
from gateway.replies.facts import ReplyKind
from gateway.routing.plan import PlannedTarget
from gateway.storage import repo
from gateway.storage.models import Case, CaseStatus, Offer, OfferKind, OfferStatus
from parsers.request import Request

__all__ = [
    "CLOSE_OUTCOMES",
    "CORRECTABLE_FIELDS",
    "ActionError",
    "assign_case",
    "close_case",
    "correct_and_rerun",
]

# Outcome code → what the sender reads.
CLOSE_OUTCOMES: dict[str, str] = {
    "medecin_trouve": "Un médecin a accepté de prendre en charge le patient",
    "avis_rendu": "L'avis a été rendu",
    "oriente_autrement": "La demande a été orientée vers une autre solution",
    "sans_solution": "Aucune solution n'a pu être trouvée à ce jour",
    "annule": "La demande a été annulée",
    "hors_dispositif": "La demande ne relève pas de ce dispositif",
}

# Fields a coordinator may correct, as dotted paths of the Request, with their French label.
CORRECTABLE_FIELDS: dict[str, str] = {
    "patient.family_name": "Nom du patient",
    "patient.given_names": "Prénom(s) du patient",
    "patient.birth_date": "Date de naissance (AAAA-MM-JJ)",
    "patient.postal_code": "Code postal",
    "patient.insee_code": "Code INSEE de la commune",
    "patient.city": "Commune",
    "patient.has_medecin_traitant": "A un médecin traitant (oui/non)",
    "patient.medecin_traitant": "Médecin traitant",
    "situation.ald_declared": "En ALD (oui/non)",
    "situation.arret_travail": "Arrêt de travail (oui/non)",
    "situation.sortie_hospitalisation": "Sortie d'hospitalisation (oui/non)",
    "situation.dsp_active": "DSP activé (oui/non)",
    "tele_expertise.filiere": "Filière",
    "tele_expertise.consent": "Consentement du patient (oui/non)",
    "tele_expertise.question": "Question",
}

_CLOSED = (CaseStatus.CLOSED, CaseStatus.REJECTED)


class ActionError(GatewayError):
    """The action does not apply to this case; the message is French, for the coordinator."""


def _withdraw_pending(flow: CaseFlow, case: Case, why_fr: str, cause: str) -> None:
    for offer in flow.offers(case):
        if offer.status != OfferStatus.PENDING:
            continue
        offer.status = OfferStatus.WITHDRAWN
        offer.answered_at = flow.now
        note = flow.facts(case, ReplyKind.OFFER_WITHDRAWN, lines_fr=[why_fr])
        flow.to_party(case, note, offer.doctor_email, f"{cause}:withdraw:{offer.id}")


def assign_case(flow: CaseFlow, case: Case, rpps: str, actor: str) -> Offer:
    """Offer the case to a roster doctor chosen by a coordinator, withdrawing pending offers."""
    assert case.id is not None
    if case.status in _CLOSED or case.status == CaseStatus.COMPLETED:
        raise ActionError("Le dossier est clos : il ne peut plus être attribué.")
    doctor = flow.services.doctor(rpps)
    if doctor is None:
        raise ActionError(f"Aucun médecin du répertoire n'a le RPPS {rpps}.")
    cause = f"case:{case.id}:assign:{flow.now.isoformat()}"
    _withdraw_pending(flow, case, "un coordinateur a réattribué la demande.", cause)
    request = Request.model_validate_json(case.request_json or "{}")
    kind = OfferKind.SIGNALEMENT if case.programme == "signalement" else OfferKind.TE_NAMED
    offer = send_offer(flow, case, request, kind, PlannedTarget.of(doctor), created_by=actor)
    case.status = CaseStatus.ROUTED
    case.updated_at = flow.now
    repo.add_event(
        flow.session, case.id, "assigned", {"rpps": rpps, "offer_id": offer.id}, actor=actor
    )
    return offer


def close_case(flow: CaseFlow, case: Case, outcome: str, message_fr: str, actor: str) -> None:
    """Close with an outcome; the sender receives it, with the coordinator's message."""
    assert case.id is not None
    if outcome not in CLOSE_OUTCOMES:
        raise ActionError(f"Issue inconnue : {outcome}.")
    if case.status in _CLOSED:
        raise ActionError("Le dossier est déjà clos.")
    cause = f"case:{case.id}:close:{flow.now.isoformat()}"
    _withdraw_pending(flow, case, "le dossier a été clos par un coordinateur.", cause)
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
    repo.add_event(flow.session, case.id, "closed", {"outcome": outcome}, actor=actor)


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
        if folded in ("oui", "o", "yes", "true", "1"):
            return True
        if folded in ("non", "n", "no", "false", "0"):
            return False
        raise ActionError("Répondez « oui » ou « non ».")
    if field == "patient.birth_date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ActionError("Date attendue au format AAAA-MM-JJ.") from None
    return text or None


def correct_and_rerun(flow: CaseFlow, case: Case, field: str, value: str, actor: str) -> str | None:
    """Correct one field of the request and decide again; returns the reply kind sent."""
    assert case.id is not None
    if field not in CORRECTABLE_FIELDS:
        raise ActionError(f"Ce champ ne peut pas être corrigé : {field}.")
    if case.status not in (
        CaseStatus.RECEIVED,
        CaseStatus.INCOMPLETE,
        CaseStatus.INELIGIBLE,
        CaseStatus.WAITING_COORDINATOR,
    ):
        raise ActionError("Le dossier est déjà orienté : annulez ou réattribuez-le plutôt.")
    data = Request.model_validate_json(case.request_json or "{}").model_dump(mode="json")
    section, _, name = field.partition(".")
    coerced = _coerce(field, value)
    data[section][name] = coerced.isoformat() if isinstance(coerced, date) else coerced
    # The coordinator's word replaces the parser's complaint about that field.
    data["problems"] = [p for p in data.get("problems", []) if p.get("field") != field]
    try:
        request = Request.model_validate(data)
    except ValidationError as exc:
        raise ActionError(f"Valeur refusée : {exc.errors()[0]['msg']}") from None
    case.request_json = request.model_dump_json()
    repo.add_event(flow.session, case.id, "field_corrected", {"field": field}, actor=actor)
    return decide(flow, case, None)
