"""Médecin référent: the patient's DSP (dossier de soins partagé) is activated."""

from __future__ import annotations

from parsers.request import Request
from rules.base import NoParams, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "check"]

RULE_ID = "dsp_active"


def check(request: Request, context: RuleContext, params: NoParams) -> RuleResult:
    active = request.situation.dsp_active
    if active is True:
        return passed(RULE_ID, "Le DSP du patient est activé.", dsp="activé")
    if active is False:
        return failed(
            RULE_ID,
            "Le dossier de soins partagé (DSP) du patient n'est pas activé : il doit l'être pour "
            "la déclaration d'un médecin référent.",
            dsp="non activé",
        )
    return missing(
        RULE_ID,
        "Merci de préciser si le dossier de soins partagé (DSP) du patient est activé.",
        dsp="non renseigné",
    )


RULE = Rule(
    id=RULE_ID,
    description="Le dossier de soins partagé (DSP) du patient est activé.",
    params_model=NoParams,
    check=check,
    reads=("situation.dsp_active",),
)
