"""Evaluate a request and plan its routing, from facts loaded beforehand (pure).

The caller (``gateway.cases.context``) reads the database and hands the facts in: the rule
facts first, then, only for a request the rules find eligible, the routing facts (offers,
round-robin cursor) the plan reads. The daemon and ``aiguilleur check`` both go through
``gateway.cases.services.assess_stored``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict

from gateway.routing.decision import FinalDecision, decisive_conflicts, final_decision
from gateway.routing.plan import PlanInputs, RoutingPlan
from gateway.routing.requis import match_requis, patient_key, with_requis_filiere
from gateway.routing.roster import RosterDoctor
from gateway.routing.strategies import STRATEGIES, Strategy, plan_routing
from parsers.request import Conflict, Request
from rules.context import RequisFacts, RuleContext, SenderIdentity
from rules.engine import Evaluation, evaluate
from rules.programmes import ProgrammeSpec

__all__ = [
    "Assessment",
    "Evaluated",
    "StoredFacts",
    "build_context",
    "evaluate_request",
    "max_acts_per_year",
    "plan_evaluated",
    "request_date_of",
    "strategy_of",
]


@dataclass(frozen=True)
class StoredFacts:
    """What the database knows that the rules and the plan read."""

    sender: SenderIdentity = field(default_factory=SenderIdentity)
    te_acts_by_requis: Mapping[str, int] = field(default_factory=dict)  # TE2, quota window
    requerant_acts_this_year: int | None = None
    already_offered: frozenset[str] = frozenset()
    rr_cursor: int = 0
    open_offers: Mapping[str, int] = field(default_factory=dict)


def strategy_of(spec: ProgrammeSpec) -> Strategy:
    return STRATEGIES[spec.routing]


def request_date_of(request: Request, received_on: date) -> date:
    """The request's own date when it has one: ages depend on it."""
    return request.request_date or received_on


def build_context(
    request: Request,
    roster: Sequence[RosterDoctor],
    facts: StoredFacts,
    *,
    reads_requis: bool,
    request_date: date,
) -> RuleContext:
    """Everything the rules read, for one request on one date."""
    requis: RequisFacts | None = None
    quota: int | None = None
    requerant: int | None = None
    if reads_requis:
        doctor = match_requis(request, roster)
        if doctor is not None:
            requis = RequisFacts(found=True, rpps=doctor.rpps, filieres=doctor.filieres)
        elif any((request.tele_expertise.requis_name, request.tele_expertise.requis_rpps)):
            requis = RequisFacts(found=False, rpps=request.tele_expertise.requis_rpps)
        key = patient_key(request)
        if key is not None:
            quota = facts.te_acts_by_requis.get(doctor.rpps, 0) if doctor else 0
        requerant = facts.requerant_acts_this_year
    return RuleContext(
        request_date=request_date,
        sender=facts.sender,
        requis=requis,
        te_acts_last_year_for_patient_and_requis=quota,
        requerant_acts_this_year=requerant,
    )


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    programme: str
    request_date: date
    context: RuleContext
    evaluation: Evaluation
    plan: RoutingPlan
    conflicts: list[Conflict] = []  # sources that disagree on what decides

    def decision(self, request: Request) -> FinalDecision:
        """What the sender is told: the one decision the daemon and the dry run share."""
        blocking = [p for p in request.problems if p.severity == "error"]
        return final_decision(self.evaluation, blocking, self.conflicts)


def max_acts_per_year(spec: ProgrammeSpec) -> int:
    step = spec.step("te_quota_per_patient")
    value = getattr(step.params, "max_acts_per_year", 4) if step else 4
    return int(value)


@dataclass(frozen=True)
class Evaluated:
    """A request with its rules applied, before any routing is planned."""

    spec: ProgrammeSpec
    strategy: Strategy
    request: Request  # with the requis's filière filled in when the strategy reads one
    request_date: date
    context: RuleContext
    evaluation: Evaluation

    @property
    def routes(self) -> bool:
        """Only an eligible request is planned: the routing facts matter to nothing else."""
        return self.evaluation.decision.outcome == "eligible"


def evaluate_request(
    spec: ProgrammeSpec,
    request: Request,
    roster: Sequence[RosterDoctor],
    facts: StoredFacts,
    *,
    received_on: date,
) -> Evaluated:
    """The rules, on the request's own date when it has one (reads the rule facts only)."""
    strategy = strategy_of(spec)
    if strategy.reads_requis:
        request = with_requis_filiere(request, roster)
    request_date = request_date_of(request, received_on)
    context = build_context(
        request, roster, facts, reads_requis=strategy.reads_requis, request_date=request_date
    )
    evaluation = evaluate(spec, request, context)
    return Evaluated(spec, strategy, request, request_date, context, evaluation)


def plan_evaluated(
    evaluated: Evaluated,
    roster: Sequence[RosterDoctor],
    facts: StoredFacts,
    *,
    dac_team_address: str | None,
) -> Assessment:
    """The plan for an evaluated request (reads the routing facts when it routes)."""
    spec, request, evaluation = evaluated.spec, evaluated.request, evaluated.evaluation
    counts = facts.open_offers
    # Copied only where the stored count differs: a roster holds hundreds of doctors.
    roster = tuple(
        d
        if counts.get(d.rpps, 0) == d.open_offers
        else d.model_copy(update={"open_offers": counts.get(d.rpps, 0)})
        for d in roster
    )
    requis = match_requis(request, roster) if evaluated.strategy.reads_requis else None
    plan = plan_routing(
        evaluated.strategy.name,
        PlanInputs(
            evaluation=evaluation,
            request=request,
            roster=roster,
            on_date=evaluated.request_date,
            already_offered=facts.already_offered,
            rr_cursor=facts.rr_cursor,
            acts_by_requis=facts.te_acts_by_requis,
            requis_rpps=requis.rpps if requis else None,
            max_acts_per_year=max_acts_per_year(spec),
            dac_team_address=dac_team_address,
        ),
    )
    return Assessment(
        programme=spec.name,
        request_date=evaluated.request_date,
        context=evaluated.context,
        evaluation=evaluation,
        plan=plan,
        conflicts=decisive_conflicts(spec, request, evaluated.context, evaluation),
    )
