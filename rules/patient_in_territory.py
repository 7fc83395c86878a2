"""The patient lives in the CPTS territory (INSEE commune codes and/or postal codes)."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "TerritoryParams", "check"]

RULE_ID = "patient_in_territory"


class TerritoryParams(Params):
    insee_codes: frozenset[str] = frozenset()
    postal_codes: frozenset[str] = frozenset()


def check(request: Request, context: RuleContext, params: TerritoryParams) -> RuleResult:
    insee = (request.patient.insee_code or "").strip().upper()
    postal = (request.patient.postal_code or "").strip()
    if not params.insee_codes and not params.postal_codes:
        # An unconfigured territory must not let everyone in; a coordinator sees why.
        return failed(
            RULE_ID,
            "Le territoire de la CPTS n'est pas encore configuré : la demande sera examinée par "
            "un coordinateur.",
            territoire="non configuré",
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
)
