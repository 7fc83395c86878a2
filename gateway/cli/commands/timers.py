"""`aiguilleur timers`: one pass of offer deadlines and reminders, at a chosen time.

The daemon runs the same pass every ``routing.timer_interval`` seconds. Run by hand it
catches up after downtime; with ``--at`` it shows (and does) what is due at that time,
which is how a coordinator or a test moves the clock forward.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.cases.services import RoutingServices
from gateway.cases.timers import Timers
from gateway.config import Config
from gateway.replies.compose import ReplyRenderer
from gateway.storage.db import make_engine

__all__ = ["parse_moment", "timers_command"]


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
    print(json.dumps({"expired": report.expired, "reminded": report.reminded}))
    return 0
