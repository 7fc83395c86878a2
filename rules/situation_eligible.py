"""Signalement: at least one situation criterion holds (ALD, age > 70, arrêt de
travail, sortie d'hospitalisation, child of 18 months or younger)."""

from __future__ import annotations

from enum import StrEnum

from parsers.request import Request
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


def check(request: Request, context: RuleContext, params: SituationParams) -> RuleResult:
    situation = request.situation
    on = context.request_date
    birth = request.patient.birth_date
    enabled = params.criteria
    held: list[str] = []
    evidence = {"date_reference": on.isoformat()}

    # An ALD box ticked without its number still counts. ``ald_declared`` is being
    # added to Situation by the parsers' owner; read it defensively until it lands.
    ald_ticked = situation.ald_declared is True
    if SituationCriterion.ALD in enabled and (situation.ald or ald_ticked):
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
    if birth is not None:
        months = completed_months(birth, on)
        evidence["age"] = f"{months} mois" if months < 24 else f"{completed_years(birth, on)} ans"
        if SituationCriterion.AGE_ELDER in enabled and is_older_than_years(
            birth, on, params.older_than_years
        ):
            held.append(f"plus de {params.older_than_years} ans")
        if SituationCriterion.ENFANT in enabled and is_at_most_months_old(
            birth, on, params.child_max_months
        ):
            held.append(f"enfant de {params.child_max_months} mois ou moins")

    if held:
        evidence["criteres"] = ", ".join(held)
        return passed(
            RULE_ID, f"La situation du patient est éligible ({', '.join(held)}).", **evidence
        )
    if birth is None:
        return missing(
            RULE_ID,
            "Merci d'indiquer la date de naissance du patient ou sa situation "
            f"(critères retenus : {_labels(params)}).",
            **evidence,
        )
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
)
