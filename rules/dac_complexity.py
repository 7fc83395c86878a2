"""DAC: a complex situation, with at least one medical AND one psycho-social criterion."""

from __future__ import annotations

from parsers.request import Request, Situation
from rules.base import NoParams, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["MEDICAL", "PSYCHO_SOCIAL", "RULE", "check"]

RULE_ID = "dac_complexity"

# Situation field → French label, in the order of the DAC's own criteria.
MEDICAL: dict[str, str] = {
    "polypathologie": "plusieurs pathologies et/ou plusieurs ALD",
    "pathologie_desequilibree": "pathologie sévère déséquilibrée depuis plusieurs mois",
    "hospitalisations_repetees": "hospitalisations répétées dans l'année",
}
PSYCHO_SOCIAL: dict[str, str] = {
    "isolement_social": "faible recours aux soins lié à un isolement social",
    "vulnerabilite_sociale": "vulnérabilité sociale",
    "pratiques_inadaptees": "pratiques de santé inadaptées",
    "dependance_multi_acteurs": "intrication de pathologies et de dépendance (plusieurs acteurs)",
}


def _stated(situation: Situation, fields: dict[str, str]) -> bool:
    return any(getattr(situation, name) is not None for name in fields)


def _held(situation: Situation, fields: dict[str, str]) -> list[str]:
    return [name for name in fields if getattr(situation, name) is True]


def _denied(situation: Situation, fields: dict[str, str]) -> bool:
    """Every criterion of the family is answered no: the only evidence of its absence."""
    return all(getattr(situation, name) is False for name in fields)


def check(request: Request, context: RuleContext, params: NoParams) -> RuleResult:
    situation = request.situation
    medical = _held(situation, MEDICAL)
    several_ald = len(set(situation.ald)) >= 2
    if several_ald and "polypathologie" not in medical:
        medical.insert(0, "polypathologie")  # "plusieurs ALD" is the same criterion
    social = _held(situation, PSYCHO_SOCIAL)
    stated = several_ald or _stated(situation, MEDICAL) or _stated(situation, PSYCHO_SOCIAL)
    evidence = {
        "criteres_medicaux": ", ".join(medical) or "aucun",
        "criteres_psycho_sociaux": ", ".join(social) or "aucun",
    }
    if medical and social:
        return passed(
            RULE_ID,
            "La situation est complexe : au moins un critère médical et un critère "
            "psycho-social sont présents.",
            **evidence,
        )
    medical_denied = not medical and not several_ald and _denied(situation, MEDICAL)
    social_denied = not social and _denied(situation, PSYCHO_SOCIAL)
    if not stated or not (medical_denied or social_denied):
        if medical:
            evidence["manque"] = "psycho-social"
        elif social:
            evidence["manque"] = "médical"
        return missing(
            RULE_ID,
            "Merci de préciser les critères de complexité de la situation : au moins un critère "
            f"médical ({' ; '.join(MEDICAL.values())}) et au moins un critère psycho-social "
            f"({' ; '.join(PSYCHO_SOCIAL.values())}).",
            **evidence,
        )
    lacking: list[str] = []
    if not medical:
        lacking.append(f"médical ({' ; '.join(MEDICAL.values())})")
    if not social:
        lacking.append(f"psycho-social ({' ; '.join(PSYCHO_SOCIAL.values())})")
    return failed(
        RULE_ID,
        "L'appui du DAC concerne les situations complexes, qui réunissent au moins un critère "
        f"médical et au moins un critère psycho-social. Il manque un critère "
        f"{' et un critère '.join(lacking)}.",
        **evidence,
    )


RULE = Rule(
    id=RULE_ID,
    description=(
        "La situation est complexe : au moins un critère médical et au moins un critère "
        "psycho-social."
    ),
    params_model=NoParams,
    check=check,
    reads=(
        "situation.polypathologie",
        "situation.pathologie_desequilibree",
        "situation.hospitalisations_repetees",
        "situation.isolement_social",
        "situation.vulnerabilite_sociale",
        "situation.pratiques_inadaptees",
        "situation.dependance_multi_acteurs",
        "situation.ald",
    ),
)
