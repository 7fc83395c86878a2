"""Médecin référent: the patient has at least one ALD from the configured list."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "AldListParams", "check"]

RULE_ID = "ald_in_list"


class AldListParams(Params):
    # Luxembourg's list numbers 1-32 (CMSS DMRPCR002); its content is UNVERIFIED.
    ald_list: frozenset[int] = frozenset(range(1, 33))


def check(request: Request, context: RuleContext, params: AldListParams) -> RuleResult:
    declared = sorted(set(request.situation.ald))
    if not declared:
        return missing(
            RULE_ID,
            "Merci d'indiquer la ou les affections de longue durée (ALD) du patient, par leur "
            "numéro dans la liste.",
        )
    listed = [n for n in declared if n in params.ald_list]
    evidence = {"ald": ", ".join(str(n) for n in declared)}
    if listed:
        return passed(
            RULE_ID,
            "Le patient présente une affection de la liste (ALD "
            + ", ".join(str(n) for n in listed)
            + ").",
            **evidence,
        )
    return failed(
        RULE_ID,
        "Aucune des affections indiquées (ALD "
        + ", ".join(str(n) for n in declared)
        + ") ne figure dans la liste des pathologies ouvrant droit au médecin référent.",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description="Le patient présente au moins une affection de la liste configurée.",
    params_model=AldListParams,
    check=check,
    reads=("situation.ald", "situation.ald_declared"),
)
