"""The lines about the patient a doctor or a team reads in an offer or a referral (pure).

Which sections appear is the programme's ``summary_sections``; the words are in
the wording catalogue (``summary.*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from gateway.replies.facts import SummaryLine
from gateway.wording import labels, say
from parsers.request import Patient, Request
from rules.dates import (
    completed_months,
    completed_years,
    is_at_most_months_old,
    is_older_than_years,
)

__all__ = ["AgeCriteria", "summary"]


@dataclass(frozen=True)
class AgeCriteria:
    """The programme's situation criteria that rest on the patient's age (None: not one)."""

    older_than_years: int | None = None  # strictly older
    child_max_months: int | None = None  # this age or younger


def _line(key: str, value: str) -> SummaryLine:
    # One line each: a value written on several lines would break the list apart.
    return SummaryLine(label=say(f"summary.label.{key}"), value=" ".join(value.split()))


def _age(birth: date, on: date) -> str:
    years = completed_years(birth, on)
    if years >= 2:
        return say("summary.age.years", n=years)
    return say("summary.age.months", n=completed_months(birth, on))


def _patient(request: Request, on: date, identity: bool) -> list[SummaryLine]:
    p = request.patient
    lines: list[SummaryLine] = []
    if identity and (p.family_name or p.given_names):
        name = " ".join([*(p.given_names[:1]), (p.family_name or "").upper()]).strip()
        lines.append(_line("patient", name))
    if p.birth_date:
        if identity:
            lines.append(_line("birth_date", p.birth_date.strftime("%d/%m/%Y")))
        lines.append(_line("age", _age(p.birth_date, on)))
    if p.city:
        # "Gérardmer (88400)"; a postal code alone is a postal code, not a commune.
        place = (
            say("summary.format.place", city=p.city, code=p.postal_code)
            if p.postal_code
            else p.city
        )
        lines.append(_line("commune", place))
    elif p.postal_code:
        lines.append(_line("postal_code", p.postal_code))
    elif p.insee_code:
        lines.append(_line("insee_code", p.insee_code))
    if identity and p.phone:
        lines.append(_line("phone", p.phone))
    return lines


def _age_criteria(patient: Patient, on: date, ages: AgeCriteria) -> list[str]:
    """The age criteria the patient meets, read as the situation rule reads them."""
    older, child = ages.older_than_years, ages.child_max_months
    is_older = is_child = False
    if patient.birth_date is not None and patient.birth_date <= on:
        is_older = older is not None and is_older_than_years(patient.birth_date, on, older)
        is_child = child is not None and is_at_most_months_old(patient.birth_date, on, child)
    elif patient.birth_date is None and patient.age_months is not None:
        is_child = child is not None and patient.age_months <= child
    elif patient.birth_date is None and patient.age_years is not None:
        is_older = older is not None and patient.age_years > older
    found: list[str] = []
    if is_older:
        found.append(say("summary.criterion.older", years=older))
    if is_child:
        found.append(say("summary.criterion.child", months=child))
    return found


def _situation(request: Request, on: date, ages: AgeCriteria | None) -> list[SummaryLine]:
    flags = [key for key in labels("summary.situation") if getattr(request.situation, key, None)]
    if (request.situation.ald_declared or request.situation.ald) and "ald" not in flags:
        flags.insert(0, "ald")
    found = [say(f"summary.situation.{key}") for key in flags]
    if ages is not None:
        found += _age_criteria(request.patient, on, ages)
    if not found:
        return []
    return [_line("situation", ", ".join(found))]


def _tele_expertise(request: Request) -> list[SummaryLine]:
    te = request.tele_expertise
    lines: list[SummaryLine] = []
    if te.filiere:
        lines.append(_line("filiere", te.filiere))
    if te.question:
        lines.append(_line("question", te.question[:1500]))
    if te.urgency:
        lines.append(_line("urgency", te.urgency))
    return lines


def summary(
    sections: Sequence[str],
    sender: str | None,
    request: Request,
    on: date,
    *,
    identity: bool,
    ages: AgeCriteria | None = None,
) -> list[SummaryLine]:
    """What a doctor needs; the patient's identity only once they are involved.

    ``ages``: the programme's age criteria, so that an infant's or an elder's offer says
    why the situation qualifies, as an ALD does.
    """
    lines: list[SummaryLine] = []
    for section in sections:
        if section == "patient":
            lines += _patient(request, on, identity)
        elif section == "situation":
            lines += _situation(request, on, ages)
        elif section == "tele_expertise":
            lines += _tele_expertise(request)
        elif section == "sender" and identity and sender:
            lines.append(_line("sender", sender))
    return lines
