"""Télé-expertise: a named requis belongs to the filière asked for."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.keys import norm_key
from rules.result import RuleResult

__all__ = ["RULE", "RequisInFiliereParams", "check", "passed_to_group", "requis_named"]

RULE_ID = "requis_in_filiere"


class RequisInFiliereParams(Params):
    # True: a mismatch passes and the request goes to the filière's group instead.
    fallback_to_group: bool = False


def requis_named(request: Request) -> bool:
    te = request.tele_expertise
    return bool(te.requis_rpps or te.requis_email or te.requis_name)


def passed_to_group(
    rule_id: str, reason_fr: str, *, fallback: bool = False, **evidence: str
) -> RuleResult:
    """The request goes to the filière's group; ``fallback``: instead of the named requis."""
    to = "groupe (repli)" if fallback else "groupe"
    return passed(rule_id, reason_fr, destinataire=to, **evidence)


def check(request: Request, context: RuleContext, params: RequisInFiliereParams) -> RuleResult:
    if not requis_named(request):
        return passed_to_group(
            RULE_ID,
            "Aucun médecin requis n'est nommé : la demande est adressée au groupe de la filière.",
        )
    raw = request.tele_expertise.filiere
    if not raw or not norm_key(raw):
        return missing(
            RULE_ID,
            "Le rattachement du médecin requis sera vérifié dès que la filière sera précisée.",
            destinataire="nommé",
        )
    filiere = norm_key(raw)
    facts = context.requis
    if facts is not None and facts.found and filiere in {norm_key(f) for f in facts.filieres}:
        return passed(
            RULE_ID,
            "Le médecin requis fait partie de la filière demandée.",
            destinataire="nommé",
            filiere=filiere,
        )
    known = facts is not None and facts.found
    if params.fallback_to_group:
        return passed_to_group(
            RULE_ID,
            "Le médecin requis indiqué ne fait pas partie de la filière : la demande sera "
            "adressée au groupe de la filière.",
            fallback=True,
            filiere=filiere,
            requis_connu="oui" if known else "non",
        )
    detail = (
        "ne fait pas partie de la filière"
        if known
        else "n'est pas connu parmi les médecins de la filière"
    )
    return failed(
        RULE_ID,
        f"Le médecin requis indiqué {detail} « {raw} ». Vous pouvez adresser la demande au "
        "groupe de la filière, sans nommer de médecin.",
        destinataire="nommé",
        filiere=filiere,
        requis_connu="oui" if known else "non",
    )


RULE = Rule(
    id=RULE_ID,
    description="Le médecin requis nommé fait partie de la filière demandée.",
    params_model=RequisInFiliereParams,
    check=check,
    reads=("tele_expertise.requis_name", "tele_expertise.requis_rpps", "tele_expertise.filiere"),
)
