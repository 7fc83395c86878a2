"""The public data types of the realistic corpus: requests, verdicts, directory rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["PROGRAMMES", "Professional", "RealisticRequest", "RosterEntry", "Verdict"]

Verdict = Literal["eligible", "ineligible", "incomplete", "rejected", "coordinator"]
PROGRAMMES = ("signalement", "tele_expertise", "appui_dac", "medecin_referent")


@dataclass(frozen=True)
class RealisticRequest:
    id: str
    programme: str
    style: str
    raw: bytes
    expected_verdict: Verdict
    expected_fields: Mapping[str, object]
    notify_medecin_traitant: bool = False
    why: str = ""


@dataclass(frozen=True)
class RosterEntry:
    """A doctor the coordination can route to: a GP taking patients or a requis."""

    rpps: str
    name: str  # "Dr Prénom Nom"
    email: str
    speciality: str  # TRE_R38 code
    filieres: tuple[str, ...]
    accepts_new_patients: bool
    communes: tuple[str, ...]  # postal codes


@dataclass(frozen=True)
class Professional:
    """A sender the national directory knows."""

    email: str
    rpps: str
    family_name: str
    given_name: str
    profession_code: str  # TRE_G15
    speciality: str | None = None
