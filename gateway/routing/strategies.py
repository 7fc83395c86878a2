"""Routing strategies by name, as programmes name them in ``programmes.toml`` (pure).

Like ``rules.registry``: listed explicitly, nothing registers itself on import.
A strategy turns an eligible request into a ``RoutingPlan``; it also says what
the case side needs to know of it (which offers an assignment creates, whether
offers are balanced between doctors, whether a named requis matters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

from gateway.routing.candidates import signalement_candidates, teleexpertise_targets
from gateway.routing.plan import (
    PlanAction,
    PlanInputs,
    PlannedTarget,
    RoutingPlan,
    medecin_traitant_email,
    patient_communes,
)
from gateway.routing.roster import RosterDoctor, is_absent
from gateway.wording import say
from rules.keys import norm_key

__all__ = [
    "STRATEGIES",
    "RoutingSetup",
    "Strategy",
    "gps_available",
    "plan_routing",
    "requis_by_filiere",
]


@dataclass(frozen=True)
class Strategy:
    name: str
    plan: Callable[[PlanInputs], RoutingPlan]
    # The offer a coordinator's "assign" creates ("signalement" or "te_named"), if any.
    offer_kind: Literal["signalement", "te_named"] | None
    # Offers are balanced between doctors (round robin, open offers per doctor).
    balances_offers: bool = False
    # A named requis matters: the filière may come from them, their quota counts.
    reads_requis: bool = False
    # What `aiguilleur routes` says of it, in one French sentence.
    describe: Callable[[RoutingSetup], str] = lambda setup: ""


@dataclass(frozen=True)
class RoutingSetup:
    """What describing a strategy reads: the roster and the routing settings of today."""

    roster: Sequence[RosterDoctor]
    today: date
    offer_deadline_hours: float
    reminder_after_hours: float | None
    coordinators: Sequence[str]
    dac_team_address: str | None

    @property
    def coordinators_fr(self) -> str:
        return ", ".join(self.coordinators) or say("routing.describe.no_coordinator")


def gps_available(roster: Sequence[RosterDoctor], today: date) -> list[RosterDoctor]:
    """GPs who could take a new patient somewhere today (whatever the commune)."""
    return [
        d
        for d in roster
        if d.is_gp
        and d.accepts_new_patients
        and d.capacity > 0
        and d.communes
        and not is_absent(d, today)
    ]


def requis_by_filiere(roster: Sequence[RosterDoctor]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for doctor in roster:
        for key in {norm_key(f) for f in doctor.filieres}:
            counts[key] += 1
    return dict(sorted(counts.items()))


def _describe_gp_offers(setup: RoutingSetup) -> str:
    hours = setup.reminder_after_hours
    return say(
        "routing.describe.gp_offers",
        available=len(gps_available(setup.roster, setup.today)),
        deadline=f"{setup.offer_deadline_hours:g}",
        reminder=say("routing.describe.reminder", hours=f"{hours:g}") if hours else "",
        coordinators=setup.coordinators_fr,
    )


def _describe_te_filiere(setup: RoutingSetup) -> str:
    groups = requis_by_filiere(setup.roster)
    listed = ", ".join(f"{f.replace('_', ' ')} ({n})" for f, n in groups.items())
    return say(
        "routing.describe.te_filiere",
        groups=listed or say("routing.describe.no_requis"),
        coordinators=setup.coordinators_fr,
    )


def _describe_dac_team(setup: RoutingSetup) -> str:
    team = setup.dac_team_address
    if team:
        return say("routing.describe.dac_team", team=team)
    return say("routing.describe.dac_team_missing")


def _gp_offers(inputs: PlanInputs) -> RoutingPlan:
    found = signalement_candidates(
        inputs.roster,
        patient_communes(inputs.request),
        inputs.on_date,
        set(inputs.already_offered),
        inputs.rr_cursor,
    )
    if not found:
        return RoutingPlan(action="escalate", reason_fr=say("routing.plan.no_gp"))
    return RoutingPlan(
        action="offer_sequence",
        targets=tuple(PlannedTarget.of(d) for d in found),
        reason_fr=say("routing.plan.gp_sequence", n=len(found)),
    )


_TE_MODES: dict[str, PlanAction] = {"named": "te_named", "group": "te_group", "none": "escalate"}


def _te_filiere(inputs: PlanInputs) -> RoutingPlan:
    filiere = norm_key(inputs.request.tele_expertise.filiere or "")
    available = [d for d in inputs.roster if d.rpps not in inputs.already_offered]
    targets = teleexpertise_targets(
        available,
        filiere,
        inputs.on_date,
        requis_rpps=inputs.requis_rpps,
        acts_by_requis=inputs.acts_by_requis,
        max_acts_per_year=inputs.max_acts_per_year,
    )
    return RoutingPlan(
        action=_TE_MODES[targets.mode],
        targets=tuple(PlannedTarget.of(d) for d in targets.doctors),
        reason_fr=targets.reason_fr,
    )


def _dac_team(inputs: PlanInputs) -> RoutingPlan:
    notify = inputs.evaluation.decision.notify_medecin_traitant
    mt_email = medecin_traitant_email(inputs.request) if notify else None
    if inputs.dac_team_address is None:
        return RoutingPlan(
            action="escalate",
            reason_fr=say("routing.plan.no_dac_address"),
            notify_medecin_traitant=notify,
            medecin_traitant_email=mt_email,
        )
    team = PlannedTarget(
        rpps=None, name=say("routing.plan.dac_team"), email=inputs.dac_team_address
    )
    return RoutingPlan(
        action="dac_referral",
        targets=(team,),
        reason_fr=say("routing.plan.dac_referral"),
        notify_medecin_traitant=notify,
        medecin_traitant_email=mt_email,
    )


def _return_outcome(inputs: PlanInputs) -> RoutingPlan:
    del inputs  # the outcome goes back to the sender, whoever they are
    return RoutingPlan(action="return_outcome", reason_fr=say("routing.plan.return_outcome"))


_ALL = (
    Strategy(
        "gp_offers",
        _gp_offers,
        offer_kind="signalement",
        balances_offers=True,
        describe=_describe_gp_offers,
    ),
    Strategy(
        "te_filiere",
        _te_filiere,
        offer_kind="te_named",
        reads_requis=True,
        describe=_describe_te_filiere,
    ),
    Strategy("dac_team", _dac_team, offer_kind=None, describe=_describe_dac_team),
    Strategy(
        "return_outcome",
        _return_outcome,
        offer_kind=None,
        describe=lambda setup: say("routing.describe.return_outcome"),
    ),
)

STRATEGIES: Mapping[str, Strategy] = MappingProxyType({s.name: s for s in _ALL})


def plan_routing(strategy: str, inputs: PlanInputs) -> RoutingPlan:
    """The plan for an evaluated request: nothing unless eligible, else the strategy's."""
    if inputs.evaluation.decision.outcome != "eligible":
        return RoutingPlan(action="none", reason_fr=say("routing.plan.not_routed"))
    return STRATEGIES[strategy].plan(inputs)
