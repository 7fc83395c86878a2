"""Télé-expertise: the filière asked for is open at the CPTS."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.keys import norm_key
from rules.result import RuleResult

__all__ = ["DEFAULT_FILIERES", "RULE", "FiliereOpenParams", "check"]

RULE_ID = "filiere_open"

DEFAULT_FILIERES = frozenset(
    {
        "orl",
        "radiologie",
        "bilio_pancreatique",
        "urologie",
        "medecine_interne",
        "infectiologie",
        "dermatologie",
        "gastro_enterologie",
    }
)


class FiliereOpenParams(Params):
    open_filieres: frozenset[str] = DEFAULT_FILIERES


def check(request: Request, context: RuleContext, params: FiliereOpenParams) -> RuleResult:
    raw = request.tele_expertise.filiere
    written = request.tele_expertise.filiere_label or (raw or "")
    if not raw or not norm_key(raw):
        return missing(
            RULE_ID,
            "Merci de préciser la filière (spécialité) sollicitée pour la télé-expertise.",
        )
    filiere = norm_key(raw)
    open_keys = {norm_key(f) for f in params.open_filieres}
    if filiere in open_keys:
        return passed(RULE_ID, "La filière demandée est ouverte.", filiere=filiere)
    listed = ", ".join(sorted(open_keys)).replace("_", " ")
    return failed(
        RULE_ID,
        f"La filière « {written} » n'est pas ouverte à la télé-expertise sur la CPTS. "
        f"Filières ouvertes : {listed}.",
        filiere=filiere,
        filiere_ecrite=written,
    )


RULE = Rule(
    id=RULE_ID,
    description="La filière demandée est ouverte à la télé-expertise.",
    params_model=FiliereOpenParams,
    check=check,
    reads=("tele_expertise.filiere",),
)
