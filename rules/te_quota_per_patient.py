"""Télé-expertise: at most N acts a year by the same requis for the same patient."""

from __future__ import annotations

from pydantic import Field

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.requis_in_filiere import passed_to_group, requis_named
from rules.result import RuleResult

__all__ = ["RULE", "TeQuotaParams", "check"]

RULE_ID = "te_quota_per_patient"


class TeQuotaParams(Params):
    max_acts_per_year: int = Field(default=4, ge=1)  # "4 actes par an, par médecin requis"
    # True: when the named requis is at quota, send to the filière group instead.
    fallback_to_group: bool = False


def check(request: Request, context: RuleContext, params: TeQuotaParams) -> RuleResult:
    if not requis_named(request):
        # The quota is per requis: for the group, routing skips doctors at quota.
        return passed_to_group(
            RULE_ID,
            "Le plafond par médecin requis sera appliqué lors de l'orientation vers la filière.",
        )
    done = context.te_acts_last_year_for_patient_and_requis
    limit = str(params.max_acts_per_year)
    if done is None:
        return missing(
            RULE_ID,
            "Le nombre de télé-expertises déjà réalisées pour ce patient n'a pas pu être vérifié : "
            "merci de préciser l'identité du patient (INS ou nom et date de naissance).",
            plafond=limit,
        )
    evidence = {"actes_12_mois": str(done), "plafond": limit}
    if done < params.max_acts_per_year:
        return passed(
            RULE_ID,
            f"Plafond respecté : {done} acte(s) sur {limit} en 12 mois pour ce patient avec ce "
            "médecin requis.",
            **evidence,
        )
    if params.fallback_to_group:
        return passed_to_group(
            RULE_ID,
            f"Le médecin requis a déjà réalisé {done} télé-expertises pour ce patient en 12 mois "
            f"(plafond : {limit}) : la demande sera adressée à un autre médecin de la filière.",
            fallback=True,
            **evidence,
        )
    return failed(
        RULE_ID,
        f"Le médecin requis a déjà réalisé {done} télé-expertises pour ce patient au cours des 12 "
        f"derniers mois : le plafond est de {limit} par an. Vous pouvez adresser la demande à un "
        "autre médecin de la filière.",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description="Au plus 4 télé-expertises par an par médecin requis pour un même patient.",
    params_model=TeQuotaParams,
    check=check,
)
