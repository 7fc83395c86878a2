"""The lines about the patient a doctor or a team reads in an offer or a referral (pure).

Which sections appear is the programme's ``summary_sections``; the words are in
the wording catalogue (``summary.*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gateway.replies.facts import SummaryLine
from gateway.wording import labels, say
from parsers.request import Request
from rules.dates import completed_months, completed_years

__all__ = ["summary"]


def _line(key: str, value: str) -> SummaryLine:
    return SummaryLine(label=say(f"summary.label.{key}"), value=value)


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
    place = " ".join(x for x in (p.postal_code, p.city) if x)
    if place:
        lines.append(_line("commune", place))
    if identity and p.phone:
        lines.append(_line("phone", p.phone))
    return lines


def _situation(request: Request) -> list[SummaryLine]:
    flags = [key for key in labels("summary.situation") if getattr(request.situation, key, None)]
    if (request.situation.ald_declared or request.situation.ald) and "ald" not in flags:
        flags.insert(0, "ald")
    if not flags:
        return []
    return [_line("situation", ", ".join(say(f"summary.situation.{key}") for key in flags))]


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
    sections: Sequence[str], sender: str | None, request: Request, on: date, *, identity: bool
) -> list[SummaryLine]:
    """What a doctor needs; the patient's identity only once they are involved."""
    lines: list[SummaryLine] = []
    for section in sections:
        if section == "patient":
            lines += _patient(request, on, identity)
        elif section == "situation":
            lines += _situation(request)
        elif section == "tele_expertise":
            lines += _tele_expertise(request)
        elif section == "sender" and identity and sender:
            lines.append(_line("sender", sender))
    return lines
