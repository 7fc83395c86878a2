"""The round-robin cursor under concurrent writers: no lost increment, one decision at a time."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine

from gateway.cases.context import bump_rr, rr_cursor
from gateway.storage import repo
from gateway.storage.db import is_postgres
from tests.support.threads import together


def test_concurrent_bumps_lose_nothing(db_engine: Engine) -> None:
    threads, each = 6, 25

    def bumper() -> None:
        for _ in range(each):
            with repo.session_for(db_engine) as session:
                bump_rr(session)
                session.commit()

    assert together(threads, bumper) == []
    with repo.session_for(db_engine) as session:
        assert rr_cursor(session) == threads * each


def test_on_postgresql_a_second_gp_decision_waits_for_the_first(db_engine: Engine) -> None:
    if not is_postgres(db_engine):
        pytest.skip("SQLite has one writer: there is nothing to serialise")
    first = repo.session_for(db_engine)
    first.connection()
    assert rr_cursor(first) == 0
    seen: list[tuple[float, int]] = []

    def second() -> None:
        with repo.session_for(db_engine) as session:
            cursor = rr_cursor(session)
            seen.append((time.monotonic(), cursor))
            session.rollback()

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.5)
    assert seen == []  # blocked on the first decision's lock
    bump_rr(first)
    committed = time.monotonic()
    first.commit()
    first.close()
    waiter.join(10)
    assert len(seen) == 1
    at, cursor = seen[0]
    assert at >= committed and cursor == 1  # it read the cursor the first one advanced
