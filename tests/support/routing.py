"""Routing services for in-process tests: the demo territory and roster, as files would give."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence

from gateway.cases.services import RoutingServices
from gateway.cli.demo_routing import DEMO_DOCTORS, DemoDoctor, programmes_toml, roster_toml
from gateway.config import Config
from gateway.directory.roster import parse_roster
from rules.programmes import programmes_from_mapping

__all__ = ["demo_services"]


def demo_services(config: Config, doctors: Sequence[DemoDoctor] = DEMO_DOCTORS) -> RoutingServices:
    return RoutingServices(
        config=config,
        programmes=programmes_from_mapping(tomllib.loads(programmes_toml())),
        fixed_roster=parse_roster(tomllib.loads(roster_toml(doctors))),
    )
