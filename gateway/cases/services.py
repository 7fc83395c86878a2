"""What the case side reads besides the database: configuration, programmes, the roster.

``assess_stored`` is the one way the daemon and ``aiguilleur check`` assess a
request: load the stored facts, then the pure assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from gateway.cases.context import load_facts, with_routing_facts
from gateway.config import Config
from gateway.directory.roster_watch import RosterFile
from gateway.errors import ConfigError
from gateway.loops import LoopHealth
from gateway.routing.assess import Assessment, evaluate_request, plan_evaluated
from gateway.routing.roster import RosterDoctor
from gateway.routing.strategies import STRATEGIES
from parsers.request import Request
from rules.programmes import ProgrammeConfigError, ProgrammeSpec, load_programmes

__all__ = ["RoutingServices", "assess_stored", "check_programmes"]


@dataclass(frozen=True)
class RoutingServices:
    """What routing reads besides the database: configuration, programmes, the roster."""

    config: Config
    programmes: Mapping[str, ProgrammeSpec]
    roster_file: RosterFile | None = None  # re-read when the file changes
    fixed_roster: tuple[RosterDoctor, ...] = ()  # without a file (tests, dry runs)

    @classmethod
    def load(cls, config: Config, loops: LoopHealth | None = None) -> RoutingServices:
        path = config.routing.roster_path
        try:
            programmes = load_programmes(config.routing.programmes_path)
        except ProgrammeConfigError as exc:
            raise ConfigError(str(exc)) from None
        check_programmes(config, programmes)
        return cls(
            config=config,
            programmes=programmes,
            roster_file=RosterFile(path, loops) if path is not None else None,
        )

    @property
    def roster(self) -> tuple[RosterDoctor, ...]:
        return self.roster_file.doctors() if self.roster_file is not None else self.fixed_roster

    def doctor(self, rpps: str | None) -> RosterDoctor | None:
        return next((d for d in self.roster if d.rpps == rpps), None) if rpps else None


def assess_stored(
    session: Session | None,
    services: RoutingServices,
    programme: str,
    request: Request,
    *,
    sender: str | None,
    received_on: date,
    case_id: int | None = None,
    new_case: bool = False,
) -> Assessment:
    """The assessment of ``request`` with what the database knows today.

    The routing facts are read only when the rules find the request eligible: a refused or
    incomplete request costs no offer query and takes no round-robin lock.
    """
    roster = services.roster
    spec = services.programmes[programme]
    facts = load_facts(session, request, roster, spec=spec, sender=sender, received_on=received_on)
    evaluated = evaluate_request(spec, request, roster, facts, received_on=received_on)
    if evaluated.routes:
        facts = with_routing_facts(
            session, facts, strategy=evaluated.strategy, case_id=case_id, new_case=new_case
        )
    return plan_evaluated(
        evaluated, roster, facts, dac_team_address=services.config.routing.dac_team_address
    )


def check_programmes(config: Config, programmes: Mapping[str, ProgrammeSpec]) -> None:
    """Every programme names a known strategy; every mailbox names a known programme."""
    for spec in programmes.values():
        if spec.routing not in STRATEGIES:
            raise ConfigError(
                f"programmes: {spec.name}.routing: unknown strategy '{spec.routing}' "
                f"(known: {', '.join(STRATEGIES)})"
            )
    for index, box in enumerate(config.mailboxes):
        if box.programme not in programmes:
            raise ConfigError(
                f"mailboxes[{index}].programme: unknown programme '{box.programme}' "
                f"(known: {', '.join(programmes)})"
            )
