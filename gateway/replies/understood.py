""" "Nous avons compris : ..." — the facts a decision rests on, in one French line (pure).

A sender who reads "patiente de 76 ans, en ALD (diabète), résidant à Gérardmer" can
correct a misreading by answering; a coordinator reads the same line on the case page.
"""

from __future__ import annotations

import re
from datetime import date

from gateway.wording import labels, say
from parsers.request import Request, Situation

__all__ = ["understood_fr"]

_PAREN = re.compile(r"\(([^()]{2,40})\)")


def _age(request: Request, on: date) -> str | None:
    patient = request.patient
    birth = patient.birth_date
    if birth is not None and birth <= on:
        months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
        if months < 24:
            return say("understood.age_months", n=months)
        return say("understood.age_years", n=months // 12)
    if patient.age_months is not None:
        return say("understood.age_months", n=patient.age_months)
    if patient.age_years is not None:
        return say("understood.age_years", n=patient.age_years)
    return None


def _ald(request: Request) -> str | None:
    situation = request.situation
    if situation.ald_declared is False and not situation.ald:
        return say("understood.no_ald")
    if not situation.ald and situation.ald_declared is not True:
        return None
    written = request.provenance.get("situation.ald") or request.provenance.get(
        "situation.ald_declared"
    )
    name = _PAREN.search(written.raw or "") if written is not None else None
    if name is not None:
        return say("understood.ald_named", name=name.group(1).strip())
    if situation.ald:
        return say("understood.ald_numbers", numbers=", ".join(str(n) for n in situation.ald))
    return say("understood.ald")


def _situation(situation: Situation) -> list[str]:
    said: list[str] = []
    if situation.arret_travail is True:
        said.append(say("understood.arret_travail"))
    elif situation.arret_travail is False:
        said.append(say("understood.no_arret_travail"))
    if situation.sortie_hospitalisation is True:
        said.append(say("understood.sortie_hospitalisation"))
    said.extend(
        text for name, text in labels("understood.dac").items() if getattr(situation, name) is True
    )
    if situation.dsp_active is not None:
        said.append(
            say("understood.dsp_active" if situation.dsp_active else "understood.dsp_inactive")
        )
    return said


def understood_fr(request: Request, on: date) -> str | None:
    """The line, or None when nothing was understood worth repeating."""
    patient = request.patient
    parts: list[str] = []
    who = say(
        {"F": "understood.patient_f", "M": "understood.patient_m"}.get(
            patient.sex or "", "understood.patient_x"
        )
    )
    age = _age(request, on)
    parts.append(say("understood.who_with_age", who=who, age=age) if age else who)
    if (ald := _ald(request)) is not None:
        parts.append(ald)
    parts.extend(_situation(request.situation))
    if patient.has_medecin_traitant is False:
        parts.append(say("understood.no_mt"))
    elif patient.has_medecin_traitant is True:
        parts.append(say("understood.with_mt"))
    if patient.city and patient.postal_code:
        parts.append(
            say("understood.lives_in_place", city=patient.city, postal_code=patient.postal_code)
        )
    elif patient.city:
        parts.append(say("understood.lives_in", city=patient.city))
    elif patient.postal_code:
        parts.append(say("understood.postal_code", postal_code=patient.postal_code))
    te = request.tele_expertise
    if te.filiere_label or te.filiere:
        parts.append(say("understood.filiere", filiere=te.filiere_label or te.filiere))
    if te.consent is True:
        parts.append(say("understood.consent"))
    elif te.consent is False:
        parts.append(say("understood.consent_refused"))
    if request.reporter.declared_role == "family":
        parts.append(say("understood.written_by_family"))
    elif request.reporter.declared_role == "patient":
        parts.append(say("understood.written_by_patient"))
    if len(parts) == 1 and not age:
        return None
    return ", ".join(parts) + "."
