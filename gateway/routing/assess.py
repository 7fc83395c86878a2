"""Evaluate a request and plan its routing: the part the daemon and ``aiguilleur check`` share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from gateway.config import Config
from gateway.directory.roster_watch import RosterFile
from gateway.routing.candidates import RosterDoctor
from gateway.routing.context import (
    acts_by_requis,
    build_context,
    match_requis,
    patient_key,
    with_requis_filiere,
)
from gateway.routing.decision import FinalDecision, decisive_conflicts, final_decision
from gateway.routing.plan import RoutingPlan, plan_routing
from parsers.request import Conflict, Request
from rules.context import RuleContext
from rules.engine import Evaluation, evaluate
from rules.programmes import ProgrammeSpec, load_programmes

__all__ = ["Assessment", "RoutingServices", "assess", "max_acts_per_year"]


@dataclass(frozen=True)
class RoutingServices:
    """What routing reads besides the database: configuration, programmes, the roster."""

    config: Config
    programmes: Mapping[str, ProgrammeSpec]
    roster_file: RosterFile | None = None  # re-read when the file changes
    fixed_roster: tuple[RosterDoctor, ...] = ()  # without a file (tests, dry runs)

    @classmethod
    def load(cls, config: Config) -> RoutingServices:
        path = config.routing.roster_path
        return cls(
            config=config,
            programmes=load_programmes(config.routing.programmes_path),
            roster_file=RosterFile(path) if path is not None else None,
        )

    @property
    def roster(self) -> tuple[RosterDoctor, ...]:
        return self.roster_file.doctors() if self.roster_file is not None else self.fixed_roster

    def doctor(self, rpps: str | None) -> RosterDoctor | None:
        return next((d for d in self.roster if d.rpps == rpps), None) if rpps else None


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


def assess(
    session: Session | None,
    services: RoutingServices,
    programme: str,
    request: Request,
    *,
    sender: str | None,
    received_on: date,
    already_offered: frozenset[str] = frozenset(),
    rr_cursor: int = 0,
    open_offers: Mapping[str, int] | None = None,
) -> Assessment:
    """Rules then plan, on the request's own date when it has one (ages depend on it)."""
    spec = services.programmes[programme]
    if programme == "tele_expertise":
        request = with_requis_filiere(request, services.roster)
    request_date = request.request_date or received_on
    context = build_context(
        session,
        request,
        services.roster,
        programme=programme,
        sender=sender,
        request_date=request_date,
    )
    evaluation = evaluate(spec, request, context)
    counts = open_offers or {}
    # Only signalements balance offers between GPs; the others read the roster as it is.
    roster = (
        tuple(d.model_copy(update={"open_offers": counts.get(d.rpps, 0)}) for d in services.roster)
        if counts
        else tuple(services.roster)
    )
    requis = match_requis(request, roster) if programme == "tele_expertise" else None
    plan = plan_routing(
        evaluation,
        request,
        roster,
        on_date=request_date,
        already_offered=already_offered,
        rr_cursor=rr_cursor,
        acts_by_requis=acts_by_requis(session, patient_key(request), request_date)
        if programme == "tele_expertise"
        else {},
        requis_rpps=requis.rpps if requis else None,
        max_acts_per_year=max_acts_per_year(spec),
        dac_team_address=services.config.routing.dac_team_address,
    )
    return Assessment(
        programme=programme,
        request_date=request_date,
        context=context,
        evaluation=evaluation,
        plan=plan,
        conflicts=decisive_conflicts(spec, request, context, evaluation),
    )
