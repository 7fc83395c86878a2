"""The sending mailbox is known to the directory or the CPTS roster."""

from __future__ import annotations

from typing import Literal

from parsers.request import Request
from rules.base import Params, Rule, failed, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "SenderVerifiedParams", "check"]

RULE_ID = "sender_verified"


class SenderVerifiedParams(Params):
    # "reject": an unknown mailbox is not admissible; "accept": note it and go on.
    policy: Literal["reject", "accept"] = "accept"


def check(request: Request, context: RuleContext, params: SenderVerifiedParams) -> RuleResult:
    sender = context.sender
    if sender.verified:
        return passed(
            RULE_ID,
            "L'expéditeur est connu de l'annuaire.",
            verifie="oui",
            source=sender.source or "inconnue",
        )
    if params.policy == "accept":
        return passed(
            RULE_ID,
            "L'expéditeur n'a pas pu être vérifié dans l'annuaire ; la demande est tout de même "
            "examinée.",
            verifie="non",
        )
    return failed(
        RULE_ID,
        "Votre messagerie n'a pas pu être identifiée dans l'annuaire des professionnels de santé "
        "ou parmi les membres de la CPTS. Nous ne pouvons pas traiter cette demande.",
        verifie="non",
    )


RULE = Rule(
    id=RULE_ID,
    description="L'expéditeur est identifié dans l'annuaire santé ou le registre de la CPTS.",
    params_model=SenderVerifiedParams,
    check=check,
    sender_admission=True,
)
