"""Where an evaluated request goes next: a pure decision over a roster snapshot.

The executor (``gateway.cases.flow``) turns a plan into offers and mails; this
module never reads a clock or a database, so ``aiguilleur check`` shows exactly
what the daemon would do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.routing.roster import RosterDoctor
from parsers.request import Request
from rules.engine import Evaluation

__all__ = [
    "PlanAction",
    "PlanInputs",
    "PlannedTarget",
    "RoutingPlan",
    "medecin_traitant_email",
    "patient_communes",
]

PlanAction = Literal[
    "none",  # not eligible: the reply says why, nothing is routed
    "offer_sequence",  # signalement: one GP at a time, best first
    "te_named",  # télé-expertise to the named requis
    "te_group",  # télé-expertise broadcast to the filière
    "dac_referral",  # appui DAC: to the team address
    "return_outcome",  # médecin référent: the outcome goes back to the declaring doctor
    "escalate",  # nobody to route to: a coordinator takes over
]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class PlannedTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    rpps: str | None
    name: str
    email: str

    @classmethod
    def of(cls, doctor: RosterDoctor) -> PlannedTarget:
        return cls(rpps=doctor.rpps, name=doctor.name, email=doctor.email)


class RoutingPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: PlanAction
    targets: tuple[PlannedTarget, ...] = ()  # offer_sequence: in order; the first gets the offer
    reason_fr: str
    notify_medecin_traitant: bool = False
    medecin_traitant_email: str | None = None


def patient_communes(request: Request) -> frozenset[str]:
    """The patient's INSEE and postal codes, as the roster's ``communes`` lists them."""
    p = request.patient
    return frozenset(c for c in (p.insee_code, p.postal_code) if c)


def medecin_traitant_email(request: Request) -> str | None:
    text = request.patient.medecin_traitant or ""
    found = _EMAIL.search(text)
    return found.group(0).lower() if found else None


@dataclass(frozen=True)
class PlanInputs:
    """Everything a routing strategy reads: the evaluation, the request, the roster and
    the stored counts, all loaded beforehand."""

    evaluation: Evaluation
    request: Request
    roster: Sequence[RosterDoctor]
    on_date: date
    already_offered: frozenset[str] = frozenset()
    rr_cursor: int = 0
    acts_by_requis: Mapping[str, int] = field(default_factory=dict)
    requis_rpps: str | None = None
    max_acts_per_year: int = 4
    dac_team_address: str | None = None
