"""Small builders for requests and contexts used across the rules tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from parsers.request import Patient, Reporter, Request, RequestKind, Situation, TeleExpertise
from rules.context import RequisFacts, RuleContext, SenderIdentity
from rules.result import Outcome

REQUEST_DATE = date(2026, 3, 1)
# A yes/no rule (rules.base.yes_no_rule): the outcome for each stated answer.
YES_NO_OUTCOMES: tuple[tuple[bool | None, Outcome], ...] = (
    (True, Outcome.PASSED),
    (False, Outcome.FAILED),
    (None, Outcome.MISSING),
)


def request(
    kind: RequestKind = RequestKind.SIGNALEMENT,
    *,
    patient: dict[str, Any] | None = None,
    situation: dict[str, Any] | None = None,
    reporter: dict[str, Any] | None = None,
    te: dict[str, Any] | None = None,
) -> Request:
    return Request(
        kind=kind,
        request_date=REQUEST_DATE,
        patient=Patient(**(patient or {})),
        situation=Situation(**(situation or {})),
        reporter=Reporter(**({"declared_role": "professional"} | (reporter or {}))),
        tele_expertise=TeleExpertise(**(te or {})),
    )


def context(
    *,
    on: date = REQUEST_DATE,
    sender: dict[str, Any] | None = None,
    requis: RequisFacts | None = None,
    te_acts: int | None = None,
    requerant_acts: int | None = None,
) -> RuleContext:
    return RuleContext(
        request_date=on,
        sender=SenderIdentity(**(sender or {})),
        requis=requis,
        te_acts_last_year_for_patient_and_requis=te_acts,
        requerant_acts_this_year=requerant_acts,
    )
