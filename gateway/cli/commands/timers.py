"""`aiguilleur timers`: one pass of offer deadlines and reminders, at a chosen time.

The daemon runs the same pass every ``routing.timer_interval`` seconds. Run by hand it
catches up after downtime; with ``--at`` it shows (and does) what is due at that time,
which is how a coordinator or a test moves the clock forward. Prints
``{"expired": n, "reminded": n, "refused": n}``; errors are one French line on stderr (exit 2 for
``--at`` or the configuration, 1 when the database refuses).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from gateway.cases.services import RoutingServices
from gateway.cases.timers import Timers
from gateway.cli.audience import Audience, load_or_exit, print_error
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.replies.compose import ReplyRenderer
from gateway.storage.db import make_engine
from gateway.wording import say

__all__ = ["parse_moment", "timers_cli", "timers_command"]


def parse_moment(text: str) -> datetime:
    """ISO 8601 date or date-time; without a zone it is read as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timers_command(config: Config, at: datetime | None) -> int:
    engine = make_engine(config.database.url)
    try:
        timers = Timers(
            engine=engine,
            services=RoutingServices.load(config),
            renderer=ReplyRenderer(
                from_address=config.smtp.from_address,
                from_name=config.smtp.from_name,
                limit_bytes=config.limits.max_message_bytes,
            ),
        )
        report = timers.run_once(at)
    finally:
        engine.dispose()
    print(
        json.dumps(
            {"expired": report.expired, "reminded": report.reminded, "refused": report.refused}
        )
    )
    return 0


def timers_cli(config_path: Path, at: str | None) -> int:
    """The command: parse ``--at``, load the configuration, run one pass; the exit code."""
    from gateway.observability import configure_logging

    try:
        moment = parse_moment(at) if at else None
    except ValueError:
        print_error(Audience.COORDINATOR, say("cli.error.bad_moment", value=at))
        return 2
    config = load_or_exit(config_path, Audience.COORDINATOR)
    configure_logging(config.logging.level, config.logging.format)
    try:
        return timers_command(config, moment)
    except ConfigError as exc:  # the programmes or the roster
        print_error(Audience.COORDINATOR, exc)
        return 2
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig if orig is not None else exc).splitlines()[0]
        print_error(Audience.COORDINATOR, say("cli.error.database_refused", reason=reason))
        return 1
