"""The patient has no médecin traitant."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "NoMedecinTraitantParams", "check"]

RULE_ID = "no_medecin_traitant"


class NoMedecinTraitantParams(Params):
    # The signalement form is itself "patient sans médecin traitant": unless told
    # otherwise, an unticked box means no MT.
    assume_absent_when_unstated: bool = True


def check(request: Request, context: RuleContext, params: NoMedecinTraitantParams) -> RuleResult:
    patient = request.patient
    has_mt = patient.has_medecin_traitant
    if has_mt is None and patient.medecin_traitant:
        has_mt = True
    if has_mt is True:
        return failed(
            RULE_ID,
            "Le patient a déjà un médecin traitant déclaré ; ce dispositif concerne les patients "
            "sans médecin traitant.",
            medecin_traitant="oui",
        )
    if has_mt is False:
        return passed(RULE_ID, "Le patient n'a pas de médecin traitant.", medecin_traitant="non")
    if params.assume_absent_when_unstated:
        return passed(
            RULE_ID,
            "Le patient est signalé sans médecin traitant.",
            medecin_traitant="non précisé (présumé absent)",
        )
    return missing(RULE_ID, "Merci de préciser si le patient a un médecin traitant.")


RULE = Rule(
    id=RULE_ID,
    description="Le patient n'a pas de médecin traitant.",
    params_model=NoMedecinTraitantParams,
    check=check,
    reads=("patient.has_medecin_traitant", "patient.medecin_traitant"),
)
