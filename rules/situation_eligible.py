"""Signalement: at least one situation criterion holds (ALD, age > 70, arrêt de
travail, sortie d'hospitalisation, child of 18 months or younger)."""

from __future__ import annotations

from enum import StrEnum

from parsers.request import Request, Situation
from rules.base import Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.dates import (
    completed_months,
    completed_years,
    is_at_most_months_old,
    is_older_than_years,
)
from rules.result import RuleResult

__all__ = ["RULE", "SituationCriterion", "SituationParams", "check"]

RULE_ID = "situation_eligible"


class SituationCriterion(StrEnum):
    ALD = "ald"
    AGE_ELDER = "age_superieur"
    ARRET_TRAVAIL = "arret_travail"
    SORTIE_HOSPITALISATION = "sortie_hospitalisation"
    ENFANT = "enfant"


class SituationParams(Params):
    criteria: frozenset[SituationCriterion] = frozenset(SituationCriterion)
    older_than_years: int = 70  # strictly older
    child_max_months: int = 18  # this age or younger


def _labels(params: SituationParams) -> str:
    labels = {
        SituationCriterion.ALD: "ALD",
        SituationCriterion.AGE_ELDER: f"plus de {params.older_than_years} ans",
        SituationCriterion.ARRET_TRAVAIL: "arrêt de travail nécessitant un suivi",
        SituationCriterion.SORTIE_HOSPITALISATION: "sortie d'hospitalisation nécessitant un suivi",
        SituationCriterion.ENFANT: f"enfant de {params.child_max_months} mois ou moins",
    }
    return ", ".join(labels[c] for c in SituationCriterion if c in params.criteria)


def _unanswered(situation: Situation, enabled: frozenset[SituationCriterion]) -> list[str]:
    """Criteria neither stated nor denied: without them, no refusal (no evidence)."""
    flags = {
        SituationCriterion.ALD: None if situation.ald else situation.ald_declared,
        SituationCriterion.ARRET_TRAVAIL: situation.arret_travail,
        SituationCriterion.SORTIE_HOSPITALISATION: situation.sortie_hospitalisation,
    }
    return [
        criterion.value
        for criterion, flag in flags.items()
        if criterion in enabled and flag is None
    ]


def check(request: Request, context: RuleContext, params: SituationParams) -> RuleResult:
    situation = request.situation
    patient = request.patient
    on = context.request_date
    birth = patient.birth_date
    enabled = params.criteria
    held: list[str] = []
    evidence = {"date_reference": on.isoformat()}

    # An ALD box ticked without its number still counts.
    if SituationCriterion.ALD in enabled and (situation.ald or situation.ald_declared is True):
        held.append("ALD")
    if SituationCriterion.ARRET_TRAVAIL in enabled and situation.arret_travail:
        held.append("arrêt de travail")
    if SituationCriterion.SORTIE_HOSPITALISATION in enabled and situation.sortie_hospitalisation:
        held.append("sortie d'hospitalisation")

    if birth is not None and birth > on:
        return missing(
            RULE_ID,
            "La date de naissance indiquée est postérieure à la date de la demande : merci de la "
            "vérifier.",
            **evidence,
        )
    age_known = False
    if birth is not None:
        age_known = True
        months = completed_months(birth, on)
        evidence["age"] = f"{months} mois" if months < 24 else f"{completed_years(birth, on)} ans"
        elder = is_older_than_years(birth, on, params.older_than_years)
        child = is_at_most_months_old(birth, on, params.child_max_months)
    elif patient.age_months is not None:
        age_known = True
        evidence["age"] = f"{patient.age_months} mois (déclaré)"
        elder, child = False, patient.age_months <= params.child_max_months
    elif patient.age_years is not None:
        age_known = True
        evidence["age"] = f"{patient.age_years} ans (déclaré)"
        # "71 ans" is strictly over 70, "69 ans" is not; "70 ans" may be either side of the
        # limit, and "1 an" may still be 18 months or less: those decide nothing.
        elder = patient.age_years > params.older_than_years
        child = False
        age_known = patient.age_years >= 2 and patient.age_years != params.older_than_years
    else:
        elder = child = False
    if SituationCriterion.AGE_ELDER in enabled and elder:
        held.append(f"plus de {params.older_than_years} ans")
    if SituationCriterion.ENFANT in enabled and child:
        held.append(f"enfant de {params.child_max_months} mois ou moins")

    if held:
        evidence["criteres"] = ", ".join(held)
        return passed(
            RULE_ID, f"La situation du patient est éligible ({', '.join(held)}).", **evidence
        )
    unanswered = _unanswered(situation, enabled)
    if not age_known or unanswered:
        # No refusal without evidence: what was not said is asked for.
        if unanswered:
            evidence["non_renseigne"] = ", ".join(unanswered)
        return missing(
            RULE_ID,
            "Merci de préciser la situation du patient (critères retenus : "
            f"{_labels(params)}) et sa date de naissance si elle n'est pas indiquée.",
            **evidence,
        )
    evidence["criteres"] = "aucun (âge et critères renseignés)"
    return failed(
        RULE_ID,
        "La situation du patient ne correspond à aucun des critères retenus par la CPTS "
        f"({_labels(params)}).",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description=(
        "Le patient est en ALD, a plus de 70 ans, est en arrêt de travail ou sort "
        "d'hospitalisation, ou est un enfant de 18 mois ou moins."
    ),
    params_model=SituationParams,
    check=check,
    reads=(
        "situation.ald",
        "situation.ald_declared",
        "situation.arret_travail",
        "situation.sortie_hospitalisation",
        "patient.birth_date",
        "patient.age_years",
        "patient.age_months",
    ),
)
