"""The lines about the patient a doctor or a team reads in an offer or a referral (pure)."""

from __future__ import annotations

from datetime import date

from gateway.replies.facts import SummaryLine
from parsers.request import Request
from rules.dates import completed_months, completed_years

__all__ = ["summary"]

_SITUATION_LABELS = {
    "ald": "affection de longue durée",
    "arret_travail": "arrêt de travail",
    "sortie_hospitalisation": "sortie d'hospitalisation",
    "polypathologie": "polypathologie",
    "pathologie_desequilibree": "pathologie déséquilibrée",
    "hospitalisations_repetees": "hospitalisations répétées",
    "isolement_social": "isolement social",
    "vulnerabilite_sociale": "vulnérabilité sociale",
    "pratiques_inadaptees": "pratiques inadaptées",
    "dependance_multi_acteurs": "dépendance à plusieurs intervenants",
}


def summary(
    programme: str, sender: str | None, request: Request, on: date, *, identity: bool
) -> list[SummaryLine]:
    """What a doctor needs; the patient's identity only once they are involved."""
    p = request.patient
    lines: list[SummaryLine] = []
    if identity and (p.family_name or p.given_names):
        name = " ".join([*(p.given_names[:1]), (p.family_name or "").upper()]).strip()
        lines.append(SummaryLine(label="Patient", value=name))
    if p.birth_date:
        if identity:
            lines.append(
                SummaryLine(label="Date de naissance", value=p.birth_date.strftime("%d/%m/%Y"))
            )
        years = completed_years(p.birth_date, on)
        age = f"{years} ans" if years >= 2 else f"{completed_months(p.birth_date, on)} mois"
        lines.append(SummaryLine(label="Âge", value=age))
    place = " ".join(x for x in (p.postal_code, p.city) if x)
    if place:
        lines.append(SummaryLine(label="Commune", value=place))
    if identity and p.phone:
        lines.append(SummaryLine(label="Téléphone du patient", value=p.phone))
    situations = [
        label for key, label in _SITUATION_LABELS.items() if getattr(request.situation, key, None)
    ]
    ald = request.situation.ald or request.situation.ald_declared
    if ald and "affection de longue durée" not in situations:
        situations.insert(0, "affection de longue durée")
    if situations:
        lines.append(SummaryLine(label="Situation", value=", ".join(situations)))
    te = request.tele_expertise
    if programme == "tele_expertise":
        if te.filiere:
            lines.append(SummaryLine(label="Filière", value=te.filiere))
        if te.question:
            lines.append(SummaryLine(label="Question", value=te.question[:1500]))
        if te.urgency:
            lines.append(SummaryLine(label="Urgence", value=te.urgency))
    if identity and sender:
        lines.append(SummaryLine(label="Adressé par", value=sender))
    return lines
