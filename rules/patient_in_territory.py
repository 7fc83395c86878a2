"""The patient lives in the CPTS territory (INSEE commune codes and/or postal codes)."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.keys import norm_key
from rules.result import RuleResult

__all__ = ["RULE", "TerritoryParams", "check"]

RULE_ID = "patient_in_territory"
# The evidence of an unconfigured territory: the gateway escalates instead of refusing.
NOT_CONFIGURED = "non configuré"


class TerritoryParams(Params):
    required_any = ("insee_codes", "postal_codes")

    insee_codes: frozenset[str] = frozenset()
    postal_codes: frozenset[str] = frozenset()
    # Commune names, for a request that gives the commune without its code.
    communes: frozenset[str] = frozenset()


def _commune_key(name: str) -> str:
    key = norm_key(name)
    for short, long in (("st", "saint"), ("ste", "sainte")):
        key = "_".join(long if part == short else part for part in key.split("_"))
    return key


def check(request: Request, context: RuleContext, params: TerritoryParams) -> RuleResult:
    insee = (request.patient.insee_code or "").strip().upper()
    postal = (request.patient.postal_code or "").strip()
    if params.unconfigured():
        # An unconfigured territory must not let everyone in; a coordinator sees why.
        return failed(
            RULE_ID,
            "Le territoire de la CPTS n'est pas encore configuré : la demande sera examinée par "
            "un coordinateur.",
            territoire=NOT_CONFIGURED,
        )
    city = (request.patient.city or "").strip()
    if not insee and not postal and city:
        if _commune_key(city) in {_commune_key(c) for c in params.communes}:
            return passed(RULE_ID, "Le patient réside sur le territoire de la CPTS.", commune=city)
        # A name we cannot place is no evidence of living elsewhere: ask for the code.
        return missing(
            RULE_ID,
            f"Merci de préciser le code postal de la commune de résidence du patient ({city}).",
            commune=city,
        )
    if not insee and not postal:
        return missing(
            RULE_ID,
            "Merci de préciser la commune de résidence du patient (code postal ou commune).",
        )
    if insee and insee in params.insee_codes:
        return passed(RULE_ID, "Le patient réside sur le territoire de la CPTS.", commune=insee)
    if postal and postal in params.postal_codes:
        return passed(
            RULE_ID, "Le patient réside sur le territoire de la CPTS.", code_postal=postal
        )
    evidence = {"commune": insee} if insee else {"code_postal": postal}
    return failed(
        RULE_ID,
        "Le patient ne réside pas sur le territoire couvert par la CPTS : nous vous invitons à "
        "vous adresser à la CPTS ou au dispositif de sa commune de résidence.",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description="Le patient réside sur le territoire de la CPTS.",
    params_model=TerritoryParams,
    check=check,
    reads=("patient.insee_code", "patient.postal_code", "patient.city"),
)
