"""Télé-expertise: the patient agreed, explicitly."""

from __future__ import annotations

from parsers.request import Request
from rules.base import NoParams, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "check"]

RULE_ID = "consent_given"


def check(request: Request, context: RuleContext, params: NoParams) -> RuleResult:
    consent = request.tele_expertise.consent
    if consent is True:
        return passed(RULE_ID, "Le patient a donné son accord.", consentement="oui")
    if consent is False:
        return failed(
            RULE_ID,
            "Le patient n'a pas donné son accord : la télé-expertise ne peut pas être réalisée "
            "sans son consentement (ou celui de son représentant légal).",
            consentement="non",
        )
    return missing(
        RULE_ID,
        "Merci de confirmer que le patient (ou son représentant légal) a donné son accord à la "
        "télé-expertise.",
        consentement="non renseigné",
    )


RULE = Rule(
    id=RULE_ID,
    description="Le patient a explicitement consenti à la télé-expertise.",
    params_model=NoParams,
    check=check,
    reads=("tele_expertise.consent",),
)
