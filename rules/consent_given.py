"""Télé-expertise: the patient agreed, explicitly."""

from __future__ import annotations

from rules.base import yes_no_rule

__all__ = ["RULE", "check"]

RULE_ID = "consent_given"

RULE = yes_no_rule(
    RULE_ID,
    "Le patient a explicitement consenti à la télé-expertise.",
    "tele_expertise.consent",
    evidence_key="consentement",
    yes=("Le patient a donné son accord.", "oui"),
    no=(
        "Le patient n'a pas donné son accord : la télé-expertise ne peut pas être réalisée "
        "sans son consentement (ou celui de son représentant légal).",
        "non",
    ),
    unstated=(
        "Merci de confirmer que le patient (ou son représentant légal) a donné son accord à la "
        "télé-expertise.",
        "non renseigné",
    ),
)
check = RULE.check
