"""Télé-expertise: the requérant's profession may request (and is a member, if required)."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.professions import profession_label, requerant_profession
from rules.result import RuleResult

__all__ = ["RULE", "RequerantProfessionParams", "check"]

RULE_ID = "requerant_profession_allowed"


class RequerantProfessionParams(Params):
    # TRE_G15: médecin, sage-femme, infirmier, MK, pédicure-podologue, orthophoniste.
    allowed_professions: frozenset[str] = frozenset({"10", "50", "60", "70", "80", "91"})
    members_only: bool = False


def check(request: Request, context: RuleContext, params: RequerantProfessionParams) -> RuleResult:
    code = requerant_profession(request, context)
    if code is None:
        return missing(
            RULE_ID,
            "Merci d'indiquer votre profession (et si possible votre numéro RPPS) pour que nous "
            "puissions traiter la demande de télé-expertise.",
        )
    evidence = {"profession": code}
    if code not in params.allowed_professions:
        return failed(
            RULE_ID,
            f"La télé-expertise de la CPTS n'est pas ouverte aux demandes émanant d'un "
            f"{profession_label(code)}.",
            **evidence,
        )
    if params.members_only:
        member = context.sender.is_member
        if member is None:
            return missing(
                RULE_ID,
                "La télé-expertise est réservée aux membres de la CPTS, et votre adhésion n'a pas "
                "pu être vérifiée : merci de préciser votre numéro RPPS.",
                **evidence,
            )
        if not member:
            return failed(
                RULE_ID,
                "La télé-expertise est réservée aux membres de la CPTS. Vous pouvez adhérer "
                "auprès de la CPTS pour y accéder.",
                membre="non",
                **evidence,
            )
        evidence["membre"] = "oui"
    return passed(
        RULE_ID, f"Un {profession_label(code)} peut demander une télé-expertise.", **evidence
    )


RULE = Rule(
    id=RULE_ID,
    description="La profession du requérant peut demander une télé-expertise.",
    params_model=RequerantProfessionParams,
    check=check,
    reads=("reporter.profession_code", "reporter.rpps"),
)
