"""`aiguilleur routes`: mailbox → programme → rules → routing, at a glance.

Read from the configuration, the programme files and the roster only; the
database is never opened. Programmes no mailbox serves are listed too (mailbox
"—"), so a coordinator sees every rule set the daemon would apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gateway.cases.services import RoutingServices
from gateway.cli.audience import Audience, print_error
from gateway.cli.commands.check import PARIS
from gateway.config import Config, load_config
from gateway.errors import ConfigError
from gateway.routing.roster import RosterDoctor, is_absent
from gateway.routing.strategies import (
    STRATEGIES,
    RoutingSetup,
    gps_available,
    requis_by_filiere,
)
from gateway.wording import label, say
from rules.programmes import ProgrammeSpec

__all__ = ["routes_command", "routes_data", "routing_summary_fr"]


def _compress_ints(values: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1–3, 5"``."""
    ordered = sorted(set(values))
    parts: list[str] = []
    start = prev = None
    for v in [*ordered, None]:
        if v is not None and prev is not None and v == prev + 1:
            prev = v
            continue
        if start is not None and prev is not None:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = v
    return ", ".join(parts)


def _value_fr(value: Any) -> str:
    if isinstance(value, bool):
        return say("cli.routes.yes") if value else say("cli.routes.no")
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if not items:
            return say("cli.routes.empty_list")
        if all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            return _compress_ints(items)
        return ", ".join(sorted(str(i) for i in items))
    if isinstance(value, dict):
        if not value:
            return say("cli.routes.empty_table")
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def _params(spec: ProgrammeSpec) -> list[dict[str, Any]]:
    rules = []
    for step in spec.steps:
        raw = step.params.model_dump(mode="json")
        params = {
            key: sorted(value, key=lambda v: (str(type(v)), v))
            if isinstance(value, list)
            else value
            for key, value in raw.items()
        }
        rules.append(
            {
                "rule_id": step.rule_id,
                "description_fr": step.rule.description,
                "params": params,
            }
        )
    return rules


def _policy(spec: ProgrammeSpec) -> str | None:
    step = spec.step("sender_verified")
    return str(getattr(step.params, "policy", "")) if step else None


def routing_summary_fr(programme: str, services: RoutingServices, today: date) -> str:
    """One French sentence: where an eligible request of ``programme`` goes, as its
    routing strategy describes itself."""
    routing = services.config.routing
    setup = RoutingSetup(
        roster=services.roster,
        today=today,
        offer_deadline_hours=routing.offer_deadline_hours,
        reminder_after_hours=routing.reminder_after_hours,
        coordinators=tuple(routing.coordinator_addresses),
        dac_team_address=routing.dac_team_address,
    )
    return STRATEGIES[services.programmes[programme].routing].describe(setup)


def _roster_counts(roster: Sequence[RosterDoctor], today: date) -> dict[str, Any]:
    return {
        "doctors": len(roster),
        "gps": sum(1 for d in roster if d.is_gp),
        "gps_accepting_new_patients": len(gps_available(roster, today)),
        "absent_today": sum(1 for d in roster if is_absent(d, today)),
        "non_members": sum(1 for d in roster if not d.cpts_member),
        "requis_by_filiere": requis_by_filiere(roster),
    }


def routes_data(services: RoutingServices, today: date) -> dict[str, Any]:
    """Every mailbox (then every programme no mailbox serves) with its rules and routing."""
    config = services.config
    rows: list[dict[str, Any]] = []
    entries: list[tuple[str | None, str | None, str]] = [
        (m.name, m.address, m.programme) for m in config.mailboxes
    ]
    served = {m.programme for m in config.mailboxes}
    entries += [(None, None, p) for p in services.programmes if p not in served]
    for name, address, programme in entries:
        spec = services.programmes[programme]
        rows.append(
            {
                "mailbox": name,
                "address": address,
                "programme": programme,
                "label_fr": spec.label_fr,
                "sender_policy": _policy(spec),
                "rules": _params(spec),
                "routing_fr": routing_summary_fr(programme, services, today),
            }
        )
    return {
        "routes": rows,
        "routing": {
            "offer_deadline_hours": config.routing.offer_deadline_hours,
            "reminder_after_hours": config.routing.reminder_after_hours,
            "coordinator_addresses": list(config.routing.coordinator_addresses),
            "dac_team_address": config.routing.dac_team_address,
        },
        "roster": _roster_counts(services.roster, today),
    }


def _rules_cell(rules: list[dict[str, Any]]) -> str:
    lines = []
    for i, rule in enumerate(rules, 1):
        params = "; ".join(f"{k} : {_value_fr(v)}" for k, v in rule["params"].items())
        lines.append(f"{i}. {rule['rule_id']}" + (f" ({params})" if params else ""))
    return "\n".join(lines)


def routes_command(
    config_path: Path | None,
    *,
    as_json: bool,
    today: date | None = None,
    console: Console | None = None,
) -> int:
    """Print the table (or JSON); 2 when the configuration, programmes or roster are invalid."""
    try:
        config = load_config(config_path) if config_path is not None else Config()
        services = RoutingServices.load(config)
    except ConfigError as exc:
        print_error(Audience.COORDINATOR, exc)
        return 2
    data = routes_data(services, today or datetime.now(PARIS).date())
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    table = Table(title=say("cli.routes.title"), show_lines=True)
    for column in ("mailbox", "address", "programme", "rules", "routing"):
        table.add_column(label("cli.routes.column", column), overflow="fold")
    for row in data["routes"]:
        table.add_row(
            row["mailbox"] or "—",
            row["address"] or "—",
            f"{row['programme']}\n{row['label_fr']}",
            _rules_cell(row["rules"]),
            row["routing_fr"],
        )
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)  # piped: don't squeeze the table to 80 columns
    console.print(table)
    roster = data["roster"]
    filieres = ", ".join(
        f"{f.replace('_', ' ')} : {n}" for f, n in roster["requis_by_filiere"].items()
    )
    console.print(
        say(
            "cli.routes.roster",
            doctors=roster["doctors"],
            gps=roster["gps"],
            accepting=roster["gps_accepting_new_patients"],
            absent=roster["absent_today"],
            non_members=roster["non_members"],
            filieres=filieres or say("cli.routes.none"),
        ),
        highlight=False,
    )
    return 0
