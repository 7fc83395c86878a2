"""The queries that skip over many mails read no mail's row on SQLite.

A row holding a mail's bytes spills into overflow pages, and a column stored after them
(status, lease, created_at) is read by walking that chain. A claim, a reply count or a
metrics scrape that filtered on such a column read every mail it skipped, tens of kilobytes
each, more as the history grows; a covering index answers them from the index alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from gateway.metrics import DatabaseCollector
from gateway.storage import repo
from gateway.storage.models import utcnow
from tests.support.database import migrated_sqlite


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_sqlite(tmp_path / "plans.db")  # the migrations' indexes, not create_all
    yield engine
    engine.dispose()


def _plans(engine: Engine, run: Callable[[Session], Any]) -> dict[str, list[str]]:
    """Each SELECT that ``run`` sends, with SQLite's plan for it."""
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with repo.session_for(engine) as session:
            run(session)
            driver = session.connection().connection.driver_connection
            assert driver is not None
            return {
                " ".join(statement.split()): [
                    row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {statement}", params)
                ]
                for statement, params in sent
            }
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _covered(plans: dict[str, list[str]], start: str) -> list[str]:
    matching = [steps for statement, steps in plans.items() if statement.startswith(start)]
    assert matching, f"no statement starts with {start!r}: {list(plans)}"
    return [step for steps in matching for step in steps if "_message" in step]


def test_claims_read_the_queue_from_an_index(engine: Engine) -> None:
    def claims(session: Session) -> None:
        repo.claim_inbound(session, owner="o", limit=5, lease=timedelta(minutes=1))
        repo.claim_outbound(session, owner="o", limit=5, lease=timedelta(minutes=1))

    plans = _plans(engine, claims)
    for start in ("SELECT inbound_message.id FROM", "SELECT outbound_message.id FROM"):
        steps = _covered(plans, start)
        assert steps and all("COVERING INDEX" in step for step in steps), steps


def test_the_hourly_reply_count_reads_an_index(engine: Engine) -> None:
    plans = _plans(engine, lambda s: repo.count_recent_replies(s, "a@b.fr", utcnow()))
    steps = _covered(plans, "SELECT count(*)")
    assert steps and all("COVERING INDEX ix_outbound_recipient_recent" in s for s in steps)


def test_a_metrics_scrape_reads_no_mail(engine: Engine) -> None:
    collector = DatabaseCollector(engine, {})
    plans = _plans(engine, lambda _s: list(collector.collect()))
    for start in (
        "SELECT inbound_message.mailbox, inbound_message.status, count(*)",
        "SELECT outbound_message.kind, outbound_message.status, count(*)",
        "SELECT count(*) AS count_1, min(outbound_message.created_at)",
    ):
        steps = _covered(plans, start)
        assert steps and all("COVERING INDEX" in step for step in steps), (start, steps)
