"""A CPTS's own rule, outside the package: the patient is a child (the fifth-programme test).

Named in a programmes file by its import path, ``tests.programmes.child_age``.
"""

from __future__ import annotations

from pydantic import Field

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.dates import completed_years
from rules.result import RuleResult

RULE_ID = "patient_is_child"


class ChildParams(Params):
    max_years: int = Field(default=15, ge=0)  # this age or younger


def check(request: Request, context: RuleContext, params: ChildParams) -> RuleResult:
    born = request.patient.birth_date
    if born is None:
        return missing(RULE_ID, "Merci d'indiquer la date de naissance de l'enfant.")
    years = completed_years(born, context.request_date)
    if years <= params.max_years:
        return passed(RULE_ID, f"Le patient a {years} ans.", age=str(years))
    return failed(
        RULE_ID,
        f"Ce dispositif est réservé aux enfants de {params.max_years} ans ou moins.",
        age=str(years),
    )


RULE = Rule(
    id=RULE_ID,
    description="Le patient est un enfant.",
    params_model=ChildParams,
    check=check,
    reads=("patient.birth_date",),
)
