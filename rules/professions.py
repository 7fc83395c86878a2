"""Who the requester is, as several rules need it: profession codes and roles."""

from __future__ import annotations

from parsers.request import Request
from rules.context import RuleContext

__all__ = ["PROFESSION_LABELS", "profession_label", "requerant_profession"]

# TRE_G15, the codes a requérant is likely to have (FORMATS.md §4).
PROFESSION_LABELS: dict[str, str] = {
    "10": "médecin",
    "21": "pharmacien",
    "40": "chirurgien-dentiste",
    "50": "sage-femme",
    "60": "infirmier",
    "69": "infirmier psychiatrique",
    "70": "masseur-kinésithérapeute",
    "80": "pédicure-podologue",
    "91": "orthophoniste",
    "92": "orthoptiste",
}


def requerant_profession(request: Request, context: RuleContext) -> str | None:
    """The sender's TRE_G15 code: the directory's word wins over the form's."""
    code = context.sender.profession_code or request.reporter.profession_code
    return code.strip() if code else None


def profession_label(code: str) -> str:
    return PROFESSION_LABELS.get(code, f"profession {code}")
