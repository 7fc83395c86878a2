"""The retention policy on both databases: what is purged, what is kept, and in batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select

from gateway import failpoints
from gateway.cases.retention import (
    TEST_CLOCK,
    Retention,
    cutoffs,
    due,
    last_run,
    months_before,
)
from gateway.config import Config, RetentionConfig, parse_config
from gateway.storage import repo
from gateway.storage.db import make_engine, upgrade
from gateway.storage.models import (
    Case,
    CaseEvent,
    CaseStatus,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    RetentionRun,
    RuleResultRow,
)
from gateway.storage.web_models import AuditEntry, CaseNote, LoginAttempt, WebSession, WebUser
from tests.support.mail_rows import add_inbound, add_outbound, raw_of
from tests.support.migrations import downgrade_then_upgrade

NOW = datetime(2028, 6, 15, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=3 * 365)  # past every default
RECENT = NOW - timedelta(days=30)  # within every default
RAW = b"From: dr@x.test\r\nSubject: DURAND Jeanne\r\n\r\nNom : DURAND\r\n"


def test_months_before_clamps_the_day() -> None:
    assert months_before(datetime(2028, 3, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2028, 1, 15, tzinfo=UTC), 12) == datetime(2027, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2028, 1, 15, tzinfo=UTC), 13) == datetime(
        2026, 12, 15, tzinfo=UTC
    )


def test_zero_keeps_for_good() -> None:
    limits = cutoffs(
        RetentionConfig(raw_months=0, parsed_months=0, closed_case_months=0, login_attempt_days=0),
        NOW,
        30,
    )
    assert (limits.raw, limits.parsed, limits.closed_case, limits.quarantined) == (None,) * 4
    assert limits.login_attempt is None
    assert limits.session == NOW - timedelta(minutes=30)  # expired sessions always go
    defaults = cutoffs(RetentionConfig(), NOW, 30)
    assert defaults.raw == datetime(2027, 6, 15, 12, tzinfo=UTC)
    assert defaults.closed_case == datetime(2026, 6, 15, 12, tzinfo=UTC)
    assert defaults.quarantined is None


def test_due() -> None:
    assert due(None, NOW, 60)
    done = RetentionRun(started_at=NOW - timedelta(minutes=10), complete=True)
    assert not due(done, NOW, 60)
    assert due(done, NOW + timedelta(minutes=51), 60)
    assert due(RetentionRun(started_at=NOW, complete=False), NOW, 60)  # stopped at its budget


def _config(**retention: object) -> Config:
    return parse_config({"retention": retention}, environ={})


def _inbound(
    session: Session, n: int, at: datetime, status: str, case_id: int | None = None
) -> InboundMessage:
    return add_inbound(
        session,
        RAW,
        mailbox="sig",
        source_key=f"m{n}",
        content_sha256=f"{n:064d}",
        status=status,
        parsed_json='{"patient": "DURAND"}',
        case_id=case_id,
        received_at=at,
        updated_at=at,
    )


def _case(session: Session, n: int, at: datetime, *, closed: bool) -> Case:
    case = Case(
        reference=f"AIG-2025-{n:06d}",
        programme="signalement",
        status=CaseStatus.COMPLETED if closed else CaseStatus.ROUTED,
        mailbox="sig",
        sender="dr.martin@x.test",
        request_json='{"patient": {"family_name": "DURAND"}}',
        opened_at=at,
        updated_at=at,
        patient_family_name="DURAND",
        patient_ins="123456789012345",
        doctor_rpps="10000000001",
        closed_at=at if closed else None,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    session.add(
        CaseEvent(case_id=case.id, at=at, kind="case.opened", detail_json='{"n": "DURAND"}')
    )
    session.add(
        RuleResultRow(
            case_id=case.id,
            rule_id="age",
            outcome="pass",
            reason_fr="DURAND a 80 ans",
            evidence_json='{"age": 80}',
            evaluated_at=at,
        )
    )
    session.add(CaseNote(case_id=case.id, author="alice", text="appelé Mme DURAND", at=at))
    session.add(
        AuditEntry(
            at=at, actor="alice", action="note.added", case_id=case.id, detail_json='{"x": 1}'
        )
    )
    add_outbound(
        session,
        RAW,
        case_id=case.id,
        cause_key=f"ack:{n}",
        kind="ack",
        recipient="dr.martin@x.test",
        message_id=f"<r{n}@x>",
        subject=f"{case.reference} DURAND",
        status=OutboundStatus.SENT,
        created_at=at,
    )
    return case


def _seed(engine: Engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with repo.session_for(engine) as session:
        old_closed = _case(session, 1, OLD, closed=True)
        old_open = _case(session, 2, OLD, closed=False)
        recent_closed = _case(session, 3, RECENT, closed=True)
        for name, row in {
            "ignored_old": _inbound(session, 1, OLD, InboundStatus.IGNORED),
            "ignored_recent": _inbound(session, 2, RECENT, InboundStatus.IGNORED),
            "quarantined_old": _inbound(session, 3, OLD, InboundStatus.QUARANTINED),
            "received_old": _inbound(session, 4, OLD, InboundStatus.RECEIVED),
            "of_closed": _inbound(session, 5, OLD, InboundStatus.PROCESSED, old_closed.id),
            "of_open": _inbound(session, 6, OLD, InboundStatus.PROCESSED, old_open.id),
            "of_recent": _inbound(session, 7, RECENT, InboundStatus.PROCESSED, recent_closed.id),
            "quarantined_of_closed": _inbound(
                session, 8, OLD, InboundStatus.QUARANTINED, old_closed.id
            ),
        }.items():
            assert row.id is not None
            ids[name] = row.id
        for name, case in {
            "old_closed": old_closed,
            "old_open": old_open,
            "recent_closed": recent_closed,
        }.items():
            assert case.id is not None
            ids[name] = case.id
        user = WebUser(username="alice", password_hash="x")
        session.add(user)
        session.flush()
        assert user.id is not None
        session.add(LoginAttempt(username="alice", client="1.2.3.4", success=False, at=OLD))
        session.add(LoginAttempt(username="alice", client="1.2.3.4", success=True, at=RECENT))
        session.add(
            WebSession(
                id="old", user_id=user.id, csrf_token="c", last_seen_at=NOW - timedelta(hours=2)
            )
        )
        session.add(
            WebSession(
                id="live", user_id=user.id, csrf_token="c", last_seen_at=NOW - timedelta(minutes=5)
            )
        )
        session.commit()
    return ids


def test_a_pass_purges_what_is_due_and_keeps_the_rest(db_engine: Engine) -> None:
    ids = _seed(db_engine)
    report = Retention(db_engine, _config()).run(NOW)
    assert report.complete
    assert report.cases_reduced == 1
    assert report.quarantined_kept == 2
    assert report.login_attempts_deleted == 1
    assert report.sessions_deleted == 1
    with Session(db_engine) as session:

        def inbound(name: str) -> InboundMessage:
            row = session.get(InboundMessage, ids[name])
            assert row is not None
            return row

        assert raw_of(session, inbound("ignored_old")) == b""
        assert inbound("ignored_old").parsed_json is None
        assert raw_of(session, inbound("ignored_recent")) == RAW
        assert (
            raw_of(session, inbound("quarantined_old")) == RAW
        )  # never released: kept, and counted
        assert inbound("quarantined_old").status == InboundStatus.QUARANTINED
        assert raw_of(session, inbound("received_old")) == RAW  # not handled yet
        assert raw_of(session, inbound("of_closed")) == b""
        assert (
            raw_of(session, inbound("quarantined_of_closed")) == RAW
        )  # even when its case is reduced
        assert raw_of(session, inbound("of_open")) == RAW  # an offer may still forward it
        assert inbound("of_open").parsed_json is None  # parsed past 24 months: the case has it
        assert raw_of(session, inbound("of_recent")) == RAW

        reduced = session.get(Case, ids["old_closed"])
        assert reduced is not None and reduced.reduced_at is not None
        assert (reduced.sender, reduced.request_json) == (None, None)
        assert (reduced.patient_family_name, reduced.patient_ins) == (None, None)
        # The audit trail stays: reference, status, dates, event kinds, who acted.
        assert reduced.reference == "AIG-2025-000001"
        assert reduced.status == CaseStatus.COMPLETED
        assert reduced.opened_at is not None and reduced.closed_at is not None
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == ids["old_closed"])).all()
        assert [(e.kind, e.detail_json) for e in events] == [("case.opened", "{}")]
        rule = session.exec(
            select(RuleResultRow).where(RuleResultRow.case_id == ids["old_closed"])
        ).one()
        assert (rule.rule_id, rule.outcome, rule.reason_fr, rule.evidence_json) == (
            "age",
            "pass",
            "",
            "{}",
        )
        note = session.exec(select(CaseNote).where(CaseNote.case_id == ids["old_closed"])).one()
        assert (note.author, note.text) == ("alice", "")
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.case_id == ids["old_closed"])
        ).one()
        assert (audit.actor, audit.action, audit.detail_json) == ("alice", "note.added", "{}")
        reply = session.exec(
            select(OutboundMessage).where(OutboundMessage.case_id == ids["old_closed"])
        ).one()
        assert (raw_of(session, reply), reply.subject, reply.status) == (
            b"",
            "",
            OutboundStatus.SENT,
        )

        for name in ("old_open", "recent_closed"):
            kept = session.get(Case, ids[name])
            assert kept is not None and kept.reduced_at is None
            assert kept.patient_family_name == "DURAND"
        open_reply = session.exec(
            select(OutboundMessage).where(OutboundMessage.case_id == ids["old_open"])
        ).one()
        assert raw_of(session, open_reply) == RAW

        assert [a.at > OLD for a in session.exec(select(LoginAttempt)).all()] == [True]
        assert [s.id for s in session.exec(select(WebSession)).all()] == ["live"]

        run = last_run(session)
        assert run is not None and run.complete and run.finished_at is not None
        assert json.loads(run.counts_json)["cases_reduced"] == 1
        assert json.loads(run.counts_json)["quarantined_kept"] == 2
        assert json.loads(run.policy_json)["raw_months"] == 12

    # A second pass finds nothing more.
    again = Retention(db_engine, _config()).run(NOW)
    assert again.total == 0
    assert again.quarantined_kept == 2


def test_quarantine_is_purged_only_when_configured(db_engine: Engine) -> None:
    ids = _seed(db_engine)
    report = Retention(db_engine, _config(quarantined_months=24)).run(NOW)
    assert report.quarantined_purged == 2
    assert report.quarantined_kept == 0
    with Session(db_engine) as session:
        row = session.get(InboundMessage, ids["quarantined_old"])
        assert row is not None
        assert (raw_of(session, row), row.status) == (b"", InboundStatus.IGNORED)
        assert row.error is not None and "quarantine" in row.error


def test_zero_disables_each_purge(db_engine: Engine) -> None:
    _seed(db_engine)
    config = _config(raw_months=0, parsed_months=0, closed_case_months=0, login_attempt_days=0)
    report = Retention(db_engine, config).run(NOW)
    assert report.total == report.sessions_deleted == 1
    assert report.quarantined_kept == 0


def test_a_big_backlog_goes_in_bounded_batches(db_engine: Engine) -> None:
    ids = _seed(db_engine)
    retention = Retention(db_engine, _config(batch=1), max_batches=2)
    first = retention.run(NOW)
    assert not first.complete
    assert first.total == 2
    with Session(db_engine) as session:
        assert due(last_run(session), NOW, 60)  # the next timers pass goes on
    passes = 1
    while not retention.run(NOW).complete:
        passes += 1
        assert passes < 50
    with Session(db_engine) as session:
        reduced = session.get(Case, ids["old_closed"])
        assert reduced is not None and reduced.reduced_at is not None


def test_run_if_due_waits_for_the_interval(db_engine: Engine) -> None:
    _seed(db_engine)
    clock = [NOW]
    retention = Retention(db_engine, _config(interval_minutes=60), clock=lambda: clock[0])
    assert retention.run_if_due() is not None
    clock[0] = NOW + timedelta(minutes=30)
    assert retention.run_if_due() is None
    clock[0] = NOW + timedelta(minutes=61)
    assert retention.run_if_due() is not None
    with Session(db_engine) as session:
        assert len(session.exec(select(RetentionRun)).all()) == 2


def test_the_test_clock_moves_the_policy_only(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seed(db_engine)
    monkeypatch.setattr(failpoints, "_SHIFTS", {TEST_CLOCK: timedelta(days=400)})
    retention = Retention(db_engine, _config(raw_months=12), clock=lambda: RECENT)
    report = retention.run_if_due()
    assert report is not None
    with Session(db_engine) as session:
        row = session.get(InboundMessage, ids["ignored_recent"])  # 30 days old, +400 days
        assert row is not None and raw_of(session, row) == b""
        run = last_run(session)
        assert run is not None and run.started_at == RECENT  # recorded at the real time


def test_failpoint_shift_parsing() -> None:
    assert failpoints.shift("no_such_clock") == timedelta(0)
    assert failpoints._SHIFT.match("retention_clock=+400d")
    assert failpoints._SHIFT.match("retention_clock=-3d")
    assert not failpoints._SHIFT.match("retention_clock=400")


def test_retention_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    from alembic import command

    from gateway.storage.db import alembic_config

    def has_reduced_at() -> bool:
        engine = make_engine(db_url)
        try:
            return "reduced_at" in {c["name"] for c in inspect(engine).get_columns("cases")}
        finally:
            engine.dispose()

    assert has_reduced_at()
    assert downgrade_then_upgrade(db_url, "0006", {"retention_run"}) == (set(), set())
    command.downgrade(alembic_config(db_url), "0006")
    assert not has_reduced_at()
    upgrade(db_url)
    assert has_reduced_at()
