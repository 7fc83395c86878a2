""" "Nous avons compris : ..." — the facts a decision rests on, in one French line (pure).

A sender who reads "patiente de 76 ans, en ALD (diabète), résidant à Gérardmer" can
correct a misreading by answering; a coordinator reads the same line on the case page.
"""

from __future__ import annotations

import re
from datetime import date

from parsers.request import Request, Situation

__all__ = ["understood_fr"]

_PAREN = re.compile(r"\(([^()]{2,40})\)")
_DAC = {
    "polypathologie": "plusieurs pathologies",
    "pathologie_desequilibree": "pathologie déséquilibrée",
    "hospitalisations_repetees": "hospitalisations répétées",
    "isolement_social": "isolement social",
    "vulnerabilite_sociale": "vulnérabilité sociale",
    "pratiques_inadaptees": "pratiques de santé inadaptées",
    "dependance_multi_acteurs": "dépendance avec plusieurs intervenants",
}


def _age(request: Request, on: date) -> str | None:
    patient = request.patient
    birth = patient.birth_date
    if birth is not None and birth <= on:
        months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
        return f"{months} mois" if months < 24 else f"{months // 12} ans"
    if patient.age_months is not None:
        return f"{patient.age_months} mois"
    if patient.age_years is not None:
        return f"{patient.age_years} ans"
    return None


def _ald(request: Request) -> str | None:
    situation = request.situation
    if situation.ald_declared is False and not situation.ald:
        return "sans ALD"
    if not situation.ald and situation.ald_declared is not True:
        return None
    written = request.provenance.get("situation.ald") or request.provenance.get(
        "situation.ald_declared"
    )
    name = _PAREN.search(written.raw or "") if written is not None else None
    if name is not None:
        return f"en ALD ({name.group(1).strip()})"
    if situation.ald:
        return "en ALD " + ", ".join(str(n) for n in situation.ald)
    return "en ALD"


def _situation(situation: Situation) -> list[str]:
    said: list[str] = []
    if situation.arret_travail is True:
        said.append("en arrêt de travail")
    elif situation.arret_travail is False:
        said.append("pas en arrêt de travail")
    if situation.sortie_hospitalisation is True:
        said.append("sortant d'hospitalisation")
    said.extend(label for name, label in _DAC.items() if getattr(situation, name) is True)
    if situation.dsp_active is not None:
        said.append("DSP activé" if situation.dsp_active else "DSP non activé")
    return said


def understood_fr(request: Request, on: date) -> str | None:
    """The line, or None when nothing was understood worth repeating."""
    patient = request.patient
    parts: list[str] = []
    who = {"F": "patiente", "M": "patient"}.get(patient.sex or "", "patient(e)")
    age = _age(request, on)
    parts.append(f"{who} de {age}" if age else who)
    if (ald := _ald(request)) is not None:
        parts.append(ald)
    parts.extend(_situation(request.situation))
    if patient.has_medecin_traitant is False:
        parts.append("sans médecin traitant")
    elif patient.has_medecin_traitant is True:
        parts.append("avec un médecin traitant")
    if patient.city and patient.postal_code:
        parts.append(f"résidant à {patient.city} ({patient.postal_code})")
    elif patient.city:
        parts.append(f"résidant à {patient.city}")
    elif patient.postal_code:
        parts.append(f"code postal {patient.postal_code}")
    te = request.tele_expertise
    if te.filiere_label or te.filiere:
        parts.append(f"avis demandé en {te.filiere_label or te.filiere}")
    if te.consent is True:
        parts.append("accord du patient recueilli")
    elif te.consent is False:
        parts.append("refus du patient")
    if request.reporter.declared_role == "family":
        parts.append("demande écrite par un proche")
    elif request.reporter.declared_role == "patient":
        parts.append("demande écrite par le patient")
    if len(parts) == 1 and not age:
        return None
    return ", ".join(parts) + "."
