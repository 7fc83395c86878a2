from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, event
from sqlmodel import col, select

from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    InboundStatus,
    MailboxCursor,
    OutboundMessage,
    OutboundRaw,
    utcnow,
)
from gateway.storage.repo import IncomingRaw
from tests.support.mail_rows import raw_of
from tests.support.outbound import outbound_ack

RAW = b"Message-ID: <a@b>\r\nFrom: x@y.fr\r\nSubject: s\r\n\r\nbody\r\n"


def test_store_dedupes_by_uid_and_by_message_id_and_hash(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        first = repo.store_inbound_batch(
            s, [IncomingRaw("box", RAW, uidvalidity=3_000_000_000, uid=4_000_000_000)]
        )
        s.commit()
    with repo.session_for(engine) as s:
        again = repo.store_inbound_batch(
            s, [IncomingRaw("box", RAW, uidvalidity=3_000_000_000, uid=4_000_000_000)]
        )
        copy = repo.store_inbound_batch(
            s, [IncomingRaw("box", RAW, uidvalidity=3_000_000_000, uid=7)]
        )
        other = repo.store_inbound_batch(s, [IncomingRaw("box", RAW + b"x", uidvalidity=1, uid=8)])
        s.commit()
        rows = s.exec(select(InboundMessage).order_by(InboundMessage.id)).all()  # type: ignore[arg-type]
        stored = [raw_of(s, r) for r in rows]
    assert len(first) == 1 and again == [] and copy == [] and len(other) == 1
    assert [r.status for r in rows] == ["received", "duplicate", "received"]
    assert stored == [RAW, RAW, RAW + b"x"] and rows[0].message_id == "<a@b>"
    assert rows[0].uid == 4_000_000_000  # unsigned 32-bit UIDs fit
    engine.dispose()


def test_store_dedupes_within_one_batch(db_url: str) -> None:
    """One fetch can carry the same source twice and two copies of one message."""
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        created = repo.store_inbound_batch(
            s,
            [
                IncomingRaw("box", RAW, uidvalidity=5, uid=1),
                IncomingRaw("box", RAW, uidvalidity=5, uid=1),  # the same source again
                IncomingRaw("box", RAW, uidvalidity=5, uid=2),  # a copy, other UID
                IncomingRaw("other", RAW + b"y", source_key="k"),
            ],
        )
        s.commit()
        rows = s.exec(select(InboundMessage).order_by(InboundMessage.id)).all()  # type: ignore[arg-type]
    assert [r.status for r in rows] == ["received", "duplicate", "received"]
    assert created == [rows[0].id, rows[2].id]
    assert rows[1].error == f"duplicate of inbound {rows[0].id}"
    engine.dispose()


def test_claim_leases_and_skips_leased(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        ids = repo.store_inbound_batch(
            s, [IncomingRaw("box", RAW + bytes([i]), source_key=f"k{i}") for i in range(5)]
        )
        s.commit()
    with repo.session_for(engine) as s:
        a = repo.claim_inbound(s, owner="a", limit=3, lease=timedelta(minutes=1))
        s.commit()
    with repo.session_for(engine) as s:
        b = repo.claim_inbound(s, owner="b", limit=10, lease=timedelta(minutes=1))
        s.commit()
    assert a == ids[:3] and b == ids[3:]
    with repo.session_for(engine) as s:
        assert repo.claim_inbound(s, owner="a", limit=10, lease=timedelta(minutes=1)) == []
        repo.release_own_leases(s, "a")
        s.commit()
    with repo.session_for(engine) as s:
        assert repo.claim_inbound(s, owner="a", limit=10, lease=timedelta(minutes=1)) == ids[:3]
        s.commit()
    later = utcnow() + timedelta(minutes=2)
    with repo.session_for(engine) as s:
        expired = repo.claim_inbound(s, owner="c", limit=10, lease=timedelta(minutes=1), now=later)
    assert expired == ids
    engine.dispose()


def test_a_claim_reads_small_messages_whole_and_large_ones_without_their_bytes(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    large = RAW + b"x" * 500
    with repo.session_for(engine) as s:
        ids = repo.store_inbound_batch(
            s,
            [
                IncomingRaw("box", RAW, source_key="small"),
                IncomingRaw("other", large, source_key="large"),
            ],
        )
        s.commit()
    with repo.session_for(engine) as s:
        claimed = repo.claimed_inbound(s, [ids[1], 999_999, ids[0]], raw_up_to=len(RAW))
    assert [c.id for c in claimed] == [ids[1], ids[0]]  # as asked, a vanished one left out
    assert [(c.mailbox, c.size, c.raw) for c in claimed] == [
        ("other", len(large), None),
        ("box", len(RAW), RAW),
    ]
    assert {c.status for c in claimed} == {"received"} and claimed[0].parsed_json is None
    engine.dispose()


def test_references_are_sequential_per_year(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        refs = [repo.next_reference(s, 2026) for _ in range(3)] + [repo.next_reference(s, 2027)]
        s.commit()
    with repo.session_for(engine) as s:
        refs.append(repo.next_reference(s, 2026))
        s.commit()
    assert refs == [
        "AIG-2026-000001",
        "AIG-2026-000002",
        "AIG-2026-000003",
        "AIG-2027-000001",
        "AIG-2026-000004",
    ]
    engine.dispose()


def test_outbound_is_queued_once_per_cause(db_url: str) -> None:
    engine = make_engine(db_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with repo.session_for(engine) as s:
        queued = repo.queue_outbound(s, outbound_ack("inbound:1:ack", "dr@x.fr", raw=b"first"))
        assert queued is True
        s.commit()
    # The row and its bytes: one statement on PostgreSQL (a data-modifying WITH), two on SQLite.
    writes = [q for q in statements if q.lstrip().startswith(("INSERT", "WITH"))]
    assert len(writes) == (1 if db_url.startswith("postgresql") else 2), writes
    with repo.session_for(engine) as s:
        again = outbound_ack("inbound:1:ack", "dr@x.fr", raw=b"second")
        assert repo.queue_outbound(s, again) is False
        assert repo.count_recent_replies(s, "dr@x.fr", utcnow() - timedelta(hours=1)) == 1
        (row,) = s.exec(select(OutboundMessage)).all()
        assert raw_of(s, row) == b"first"  # the second cause's bytes went nowhere
        assert len(s.exec(select(OutboundRaw)).all()) == 1
    engine.dispose()


def test_buffered_events_are_written_in_one_statement_or_dropped(db_url: str) -> None:
    engine = make_engine(db_url)
    inserts: list[int] = []

    def count(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        if statement.startswith("INSERT INTO case_event"):
            inserts.append(len(params) if isinstance(params, list) else 1)

    event.listen(engine, "before_cursor_execute", count)
    with repo.session_for(engine) as s:
        case = Case(reference="AIG-2026-000001", programme="signalement", mailbox="m")
        s.add(case)
        s.flush()
        assert case.id is not None
        with s.begin_nested(), repo.buffered_events(s):
            repo.add_event(s, case.id, "case_opened")
            with repo.buffered_events(s):  # an inner block hands its events to the outer one
                repo.add_events(s, [(case.id, "message_received", {"n": 1})] * 2)
            repo.add_event(s, case.id, "rules_evaluated")
            assert inserts == []  # nothing written before the block ends
        with pytest.raises(RuntimeError), s.begin_nested(), repo.buffered_events(s):
            repo.add_event(s, case.id, "closed")
            raise RuntimeError("the message's savepoint rolls back")
        repo.add_event(s, case.id, "assigned")  # outside any block: written at once
        s.commit()
        kinds = s.exec(select(CaseEvent.kind).order_by(col(CaseEvent.id))).all()
    assert kinds == [
        "case_opened",
        "message_received",
        "message_received",
        "rules_evaluated",
        "assigned",
    ]
    assert inserts == [4, 1]
    engine.dispose()


def test_a_queued_mail_names_every_column_of_its_row() -> None:
    # One INSERT shape for every queued mail: a column added to the table and to neither
    # the new mail's fields nor the defaults would be left to the driver.
    columns = {c.name for c in OutboundMessage.__table__.columns} - {"id"}  # type: ignore[attr-defined]
    assert set(repo._NEW_OUTBOUND_FIELDS) | set(repo._OUTBOUND_DEFAULTS) == columns
    assert not set(repo._NEW_OUTBOUND_FIELDS) & set(repo._OUTBOUND_DEFAULTS)


def test_a_stored_message_starts_as_the_table_model_would(db_url: str) -> None:
    # Stored from plain values: every column gets the value the model's defaults give.
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        before = utcnow()
        keyed, unkeyed = (
            repo.store_inbound_batch(s, [item])[0]
            for item in (IncomingRaw("box", RAW, uid=5), IncomingRaw("box", RAW + b"!"))
        )
        s.commit()
        rows = [s.get(InboundMessage, keyed), s.get(InboundMessage, unkeyed)]
        stored = [raw_of(s, row) for row in rows if row is not None]
    assert stored == [RAW, RAW + b"!"]
    model = InboundMessage(mailbox="box", content_sha256="x", size=1)
    for row in rows:
        assert row is not None
        for name in ("status", "attempts", "error", "lease_until", "lease_owner", "case_id"):
            assert getattr(row, name) == getattr(model, name), name
        assert row.parsed_json is None and row.size == len(RAW) + (row.id == unkeyed)
        for name in ("next_attempt_at", "received_at", "updated_at"):
            assert getattr(row, name) >= before, name
    engine.dispose()


def test_a_stored_message_names_every_column_of_its_row() -> None:
    row = repo._NewInbound(
        IncomingRaw("box", RAW), None, "x", InboundStatus.RECEIVED, None, utcnow()
    )
    columns = {c.name for c in InboundMessage.__table__.columns} - {"id"}  # type: ignore[attr-defined]
    assert set(row.params()) == columns


def _case(reference: str) -> Case:
    return Case(reference=reference, programme="signalement", mailbox="sig", sender="a@x.test")


def test_a_row_written_at_once_stays_in_the_session_like_a_read_one(db_url: str) -> None:
    engine = make_engine(db_url)
    statements: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda *a: statements.append(a[2].split()[0]) if a[2].split()[0] != "BEGIN" else None,
    )
    with repo.session_for(engine) as s:
        case = _case("AIG-1")
        case_id = repo.insert_now(s, case)
        assert case.id == case_id and s.get(Case, case_id) is case  # no query: it is held
        assert statements == ["INSERT"]
        case.status = "routed"  # a later change goes with the next flush, as for any row
        s.commit()
    assert statements == ["INSERT", "UPDATE"]
    with repo.session_for(engine) as s:
        stored = s.get(Case, case_id)
        assert stored is not None and (stored.reference, stored.status) == ("AIG-1", "routed")
    engine.dispose()


def test_a_row_written_at_once_in_a_rolled_back_savepoint_does_not_haunt_the_session(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        first = _case("AIG-1")  # still referenced, as a failed message's case may be
        with pytest.raises(RuntimeError), s.begin_nested():
            repo.insert_now(s, first)
            first.status = "routed"
            s.flush()
            raise RuntimeError("this message fails")
        # The next message's row may get the same id back (SQLite): it is the one held now.
        again = _case("AIG-2")
        repo.insert_now(s, again)
        again.status = "routed"
        s.commit()
    with repo.session_for(engine) as s:
        assert [(c.reference, c.status) for c in s.exec(select(Case)).all()] == [
            ("AIG-2", "routed")
        ]
    assert first is not again  # held to the end, as a failed message's case may be
    engine.dispose()


def test_an_outbound_claim_leases_its_rows_in_one_statement(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        for i in range(3):
            repo.queue_outbound(s, outbound_ack(f"c{i}", f"dr{i}@x.test", message_id=f"<m{i}@x>"))
        s.commit()
    updates: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda *a: updates.append(a[2]) if a[2].startswith("UPDATE") else None,
    )
    hour = timedelta(hours=1)
    with repo.session_for(engine) as s:
        a = repo.claim_outbound(s, owner="a", limit=2, lease=hour)
        assert not s.dirty  # written already: nothing left for the unit of work
        s.commit()
    assert len(updates) == 1
    assert [(c.recipient, c.kind, c.message_id, c.raw) for c in a] == [
        ("dr0@x.test", "ack", "<m0@x>", b"x"),  # the bytes to send, read with the claim
        ("dr1@x.test", "ack", "<m1@x>", b"x"),
    ]
    with repo.session_for(engine) as s:
        b = repo.claim_outbound(s, owner="b", limit=10, lease=hour)
        s.commit()
    assert [c.recipient for c in b] == ["dr2@x.test"]  # a's two are leased
    with repo.session_for(engine) as s:
        leased = {r.recipient: r.lease_owner for r in s.exec(select(OutboundMessage)).all()}
    assert leased == {"dr0@x.test": "a", "dr1@x.test": "a", "dr2@x.test": "b"}
    engine.dispose()


def _updates(engine: Engine) -> list[tuple[str, int]]:
    """Each UPDATE the engine runs, as "table: columns set", with its count of parameter sets."""
    seen: list[tuple[str, int]] = []

    def record(_c: object, _cur: object, statement: str, params: object, *_: object) -> None:
        if statement.startswith("UPDATE"):
            table, _sep, rest = statement.removeprefix("UPDATE ").partition(" SET ")
            columns = re.findall(r"(\w+)=", rest.split(" WHERE ")[0])
            seen.append(
                (f"{table}: {' '.join(columns)}", len(params) if isinstance(params, list) else 1)
            )

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_changed_rows_are_written_as_updates_of_their_changed_columns(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        cases = [_case(f"AIG-{i}") for i in range(3)]
        for case in cases:
            repo.insert_now(s, case)
        s.commit()
        seen = _updates(engine)
        flushed: list[object] = []  # what reached the unit of work
        event.listen(s, "before_flush", lambda session, *_: flushed.extend(session.dirty))
        cases[0].status, cases[1].status = "routed", "closed"  # the same columns: one statement
        cases[2].decision = "eligible"
        cases[2].sender = "a@x.test"  # set to what it was: not written
        repo.write_changes(s)
        assert not s.dirty  # clean: the commit's flush has nothing left to write
        s.commit()
    assert flushed == []
    assert sorted(seen) == [("cases: decision", 1), ("cases: status", 2)]
    with repo.session_for(engine) as s:
        stored = {c.reference: (c.status, c.decision) for c in s.exec(select(Case)).all()}
    assert stored == {
        "AIG-0": ("routed", None),
        "AIG-1": ("closed", None),
        "AIG-2": ("received", "eligible"),
    }
    engine.dispose()


def test_a_change_to_a_row_gone_from_the_database_is_an_error(db_url: str) -> None:
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        case = _case("AIG-1")
        case_id = repo.insert_now(s, case)
        s.commit()
        with engine.begin() as other:  # another writer removed it meanwhile
            other.execute(delete(Case).where(col(Case.id) == case_id))
        case.status = "routed"
        with pytest.raises(LookupError, match="not updated"):
            repo.write_changes(s)
    engine.dispose()


def test_rows_written_in_a_rolled_back_savepoint_read_as_stored_once_expired(
    db_url: str,
) -> None:
    # What the pipeline does when a message fails after its rows were written.
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        case = _case("AIG-1")
        repo.insert_now(s, case)
        s.commit()
        with pytest.raises(RuntimeError), s.begin_nested():
            case.status = "routed"
            repo.write_changes(s)
            raise RuntimeError("this message fails")
        s.expire_all()
        assert case.status == "received"
        case.decision = "eligible"  # the next message's change is still written
        s.commit()
    with repo.session_for(engine) as s:
        stored = s.exec(select(Case)).one()
        assert (stored.status, stored.decision) == ("received", "eligible")
    engine.dispose()


def test_a_sync_moves_the_cursor_forward_only_and_clears_its_error(db_url: str) -> None:
    """After each stored batch the cursor is written by one UPDATE: the highest UID stays,
    a missing UIDVALIDITY keeps the known one, and the sync clears the last error."""
    engine = make_engine(db_url)
    with repo.session_for(engine) as s:
        repo.update_cursor(s, "box", uidvalidity=7, last_uid=10, error="down", synced=False)
        s.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with repo.session_for(engine) as s:
        repo.update_cursor(s, "box", last_uid=5, synced=True)  # an older batch, late
        s.commit()
    assert [q.split()[0] for q in statements if not q.startswith("BEGIN")] == ["UPDATE"]
    with repo.session_for(engine) as s:
        cursor = s.get(MailboxCursor, "box")
        assert cursor is not None
        assert (cursor.uidvalidity, cursor.last_uid, cursor.last_error) == (7, 10, None)
        assert cursor.last_sync_at is not None
        repo.update_cursor(s, "box", uidvalidity=8, last_uid=12, synced=True)
        repo.update_cursor(s, "new", uidvalidity=1, last_uid=3, synced=True)  # no row yet
        s.commit()
    with repo.session_for(engine) as s:
        found = {c.mailbox: (c.uidvalidity, c.last_uid) for c in s.exec(select(MailboxCursor))}
    assert found == {"box": (8, 12), "new": (1, 3)}
    engine.dispose()
