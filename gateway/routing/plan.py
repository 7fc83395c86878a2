"""Where an evaluated request goes next: a pure decision over a roster snapshot.

The executor (``gateway.cases.flow``) turns a plan into offers and mails; this
module never reads a clock or a database, so ``aiguilleur check`` shows exactly
what the daemon would do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.routing.candidates import signalement_candidates, teleexpertise_targets
from gateway.routing.roster import RosterDoctor
from parsers.request import Request
from rules.engine import Evaluation
from rules.keys import norm_key

__all__ = ["PlanAction", "PlannedTarget", "RoutingPlan", "patient_communes", "plan_routing"]

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


def _medecin_traitant_email(request: Request) -> str | None:
    text = request.patient.medecin_traitant or ""
    found = _EMAIL.search(text)
    return found.group(0).lower() if found else None


def plan_routing(
    evaluation: Evaluation,
    request: Request,
    roster: Sequence[RosterDoctor],
    *,
    on_date: date,
    already_offered: frozenset[str] = frozenset(),
    rr_cursor: int = 0,
    acts_by_requis: Mapping[str, int] | None = None,
    requis_rpps: str | None = None,
    max_acts_per_year: int = 4,
    dac_team_address: str | None = None,
) -> RoutingPlan:
    if evaluation.decision.outcome != "eligible":
        return RoutingPlan(action="none", reason_fr="La demande n'est pas orientée.")
    programme = evaluation.programme
    if programme == "signalement":
        found = signalement_candidates(
            roster, patient_communes(request), on_date, set(already_offered), rr_cursor
        )
        if not found:
            return RoutingPlan(
                action="escalate",
                reason_fr="Aucun médecin disponible n'accepte de nouveaux patients dans la "
                "commune du patient : un coordinateur reprend la demande.",
            )
        return RoutingPlan(
            action="offer_sequence",
            targets=tuple(PlannedTarget.of(d) for d in found),
            reason_fr=f"{len(found)} médecin(s) généraliste(s) disponible(s) ; la demande leur "
            "est proposée l'un après l'autre.",
        )
    if programme == "tele_expertise":
        filiere = norm_key(request.tele_expertise.filiere or "")
        available = [d for d in roster if d.rpps not in already_offered]
        targets = teleexpertise_targets(
            available,
            filiere,
            on_date,
            requis_rpps=requis_rpps,
            acts_by_requis=acts_by_requis,
            max_acts_per_year=max_acts_per_year,
        )
        modes: dict[str, PlanAction] = {
            "named": "te_named",
            "group": "te_group",
            "none": "escalate",
        }
        action = modes[targets.mode]
        return RoutingPlan(
            action=action,
            targets=tuple(PlannedTarget.of(d) for d in targets.doctors),
            reason_fr=targets.reason_fr,
        )
    if programme == "appui_dac":
        notify = evaluation.decision.notify_medecin_traitant
        mt_email = _medecin_traitant_email(request) if notify else None
        if dac_team_address is None:
            return RoutingPlan(
                action="escalate",
                reason_fr="Aucune adresse d'équipe DAC n'est configurée : un coordinateur "
                "reprend la demande.",
                notify_medecin_traitant=notify,
                medecin_traitant_email=mt_email,
            )
        return RoutingPlan(
            action="dac_referral",
            targets=(PlannedTarget(rpps=None, name="Équipe DAC", email=dac_team_address),),
            reason_fr="La demande est transmise à l'équipe du DAC.",
            notify_medecin_traitant=notify,
            medecin_traitant_email=mt_email,
        )
    if programme == "medecin_referent":
        return RoutingPlan(
            action="return_outcome",
            reason_fr="Le résultat de l'éligibilité est renvoyé au médecin déclarant.",
        )
    return RoutingPlan(action="escalate", reason_fr="Programme inconnu : un coordinateur reprend.")
