"""Télé-expertise: the requérant stays under their profession's yearly limit.

The limits per profession are not confirmed by a primary text (FORMATS.md §5,
UNVERIFIED): none is set by default, each CPTS configures its own.
"""

from __future__ import annotations

from pydantic import Field, NonNegativeInt

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.professions import profession_label, requerant_profession
from rules.result import RuleResult

__all__ = ["RULE", "RequerantLimitParams", "check"]

RULE_ID = "requerant_yearly_limit"


class RequerantLimitParams(Params):
    # TRE_G15 profession code → acts a year; a profession absent here has no limit.
    limits: dict[str, NonNegativeInt] = Field(default_factory=dict)


def check(request: Request, context: RuleContext, params: RequerantLimitParams) -> RuleResult:
    code = requerant_profession(request, context)
    if code is None or code not in params.limits:
        return passed(
            RULE_ID,
            "Aucune limite annuelle n'est configurée pour cette profession.",
            profession=code or "inconnue",
        )
    limit = params.limits[code]
    done = context.requerant_acts_this_year
    if done is None:
        return missing(
            RULE_ID,
            "Le nombre de demandes déjà faites cette année n'a pas pu être vérifié : merci de "
            "préciser votre numéro RPPS.",
            profession=code,
            limite=str(limit),
        )
    evidence = {"profession": code, "actes_annee": str(done), "limite": str(limit)}
    if done < limit:
        return passed(RULE_ID, f"Limite annuelle respectée ({done} sur {limit}).", **evidence)
    return failed(
        RULE_ID,
        f"Vous avez atteint la limite annuelle de {limit} demandes de télé-expertise pour un "
        f"{profession_label(code)}.",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description="Le requérant n'a pas atteint la limite annuelle de demandes de sa profession.",
    params_model=RequerantLimitParams,
    check=check,
)
