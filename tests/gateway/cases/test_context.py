"""What routing reads: the round-robin cursor under concurrent writers (no lost increment, one
decision at a time), and the facts read within a transaction."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import Engine, event

from gateway.cases.context import (
    acts_by_requis,
    bump_rr,
    offered_to,
    open_offer_counts,
    requerant_acts,
    rr_cursor,
)
from gateway.directory.verify import lookup_directory
from gateway.storage import repo
from gateway.storage.db import is_postgres
from gateway.storage.models import Case, Offer, OfferKind, OfferStatus
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


def test_routing_facts_see_what_the_transaction_changed_and_not_yet_wrote(
    db_engine: Engine,
) -> None:
    # The facts are read on the connection, outside the ORM: what the session holds must be
    # written first, as autoflush did, or a GP who just answered still counts as busy.
    with repo.session_for(db_engine) as session:
        case = Case(reference="AIG-1", programme="signalement", mailbox="sig", sender="a@x.test")
        repo.insert_now(session, case)
        assert case.id is not None
        offers = [
            Offer(
                case_id=case.id,
                kind=OfferKind.SIGNALEMENT,
                doctor_rpps=rpps,
                doctor_name="Dr",
                doctor_email=f"{rpps}@x.test",
            )
            for rpps in ("10000000001", "10000000001", "10000000002")
        ]
        session.add_all(offers)  # pending, not flushed
        assert open_offer_counts(session) == {"10000000001": 2, "10000000002": 1}
        assert offered_to(session, case.id) == {"10000000001", "10000000002"}
        offers[0].status = OfferStatus.ACCEPTED  # changed, not flushed
        assert open_offer_counts(session) == {"10000000001": 1, "10000000002": 1}
        bump_rr(session)
        assert rr_cursor(session) == 1
        session.rollback()


def test_routing_facts_are_read_without_the_orm(db_engine: Engine) -> None:
    with repo.session_for(db_engine) as session:
        session.connection()
        orm_queries: list[object] = []
        event.listen(session, "do_orm_execute", orm_queries.append)
        assert (rr_cursor(session), open_offer_counts(session), offered_to(session, 1)) == (
            0,
            {},
            frozenset(),
        )
        assert acts_by_requis(session, "patient", date(2026, 12, 4)) == {}
        assert requerant_acts(session, "dr@x.test", 2026) == 0
        assert lookup_directory(session, "inconnu@x.mssante.fr") is None  # the sender's identity
        assert orm_queries == []
