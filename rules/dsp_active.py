"""Médecin référent: the patient's DSP (dossier de soins partagé) is activated."""

from __future__ import annotations

from rules.base import yes_no_rule

__all__ = ["RULE", "check"]

RULE_ID = "dsp_active"

RULE = yes_no_rule(
    RULE_ID,
    "Le dossier de soins partagé (DSP) du patient est activé.",
    "situation.dsp_active",
    evidence_key="dsp",
    yes=("Le DSP du patient est activé.", "activé"),
    no=(
        "Le dossier de soins partagé (DSP) du patient n'est pas activé : il doit l'être pour "
        "la déclaration d'un médecin référent.",
        "non activé",
    ),
    unstated=(
        "Merci de préciser si le dossier de soins partagé (DSP) du patient est activé.",
        "non renseigné",
    ),
)
check = RULE.check
