from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from gateway.config import Config, parse_config
from gateway.loops import LoopHealth
from gateway.metrics import Metrics
from gateway.pipeline import worker
from gateway.pipeline.worker import Pipeline, StageOutcome
from gateway.storage import repo
from gateway.storage.db import is_postgres
from gateway.storage.models import Case, CaseEvent, InboundMessage, OutboundMessage
from gateway.storage.repo import ClaimedInbound
from parsers import ParsedMessage, parse_message
from parsers.problems import problem
from parsers.request import Request, RequestKind
from tests.support.database import migrated_sqlite
from tests.support.mail_rows import raw_of
from tests.support.pipeline import parse_in_thread, pipeline_for, store_inbound
from tests.support.waiting import eventually

GATEWAY = "signalement@cpts.test"


def _config(**pipeline: object) -> Config:
    return parse_config(
        {
            "mailboxes": [
                {"name": "sig", "address": GATEWAY, "programme": "signalement", "host": "x"}
            ],
            "smtp": {"from_address": GATEWAY},
            "pipeline": {"retry_delay": 0, **pipeline},
            "limits": {"max_message_bytes": 200_000},
            "replies": {"rate_limit_per_hour": 3},
        },
        environ={},
    )


def _mail(
    body: str, *, subject: str = "Signalement", sender: str = "dr@medecin.test", **headers: str
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = GATEWAY
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="medecin.test")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


COMPLETE = (
    "Nom : DURAND\nPrénom : Jeanne\nDate de naissance : 12/03/1948\n"
    "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\nALD : oui\n"
)


_real_parse = parse_in_thread


@pytest.fixture
def engine(db_engine: Engine) -> Engine:
    return db_engine


def _pipeline(engine: Engine, config: Config, parse=_real_parse, metrics=None) -> Pipeline:  # type: ignore[no-untyped-def]
    return pipeline_for(engine, config, parse, metrics=metrics)


def _rows(engine: Engine, model: type) -> list:  # type: ignore[type-arg]
    # A reader, as the daemon reads: it takes no writer's lock. (Called on the event loop while
    # a pipeline runs, a writer's session would wait for a decide batch that waits for the loop:
    # the daemon itself makes every database call from a thread.)
    with repo.session_for(repo.reader(engine)) as s:
        return list(s.exec(select(model)).all())


def _raw(engine: Engine, row: InboundMessage | OutboundMessage) -> bytes:
    with repo.session_for(repo.reader(engine)) as s:
        return raw_of(s, row)


async def test_request_opens_case_and_queues_reply_atomically(engine: Engine) -> None:
    pipeline = _pipeline(engine, _config())
    inbound = store_inbound(engine, _mail(COMPLETE), "a")
    outcomes = await pipeline.drain()
    assert [o.status for o in outcomes] == ["processed"]
    (case,) = _rows(engine, Case)
    (row,) = _rows(engine, InboundMessage)
    offer, reply = _rows(engine, OutboundMessage)
    assert row.id == inbound and row.case_id == case.id and row.parsed_json
    assert reply.case_id == case.id and reply.recipient == "dr@medecin.test"
    assert reply.kind == "ack"
    # Eligible: the same transaction offered the patient to the first GP of the roster.
    assert offer.kind == "offer" and offer.recipient == "claire.martin@medecin.test"
    assert case.reference.startswith("AIG-") and case.programme == "signalement"
    assert case.status == "routed" and case.decision == "eligible"
    kinds = [e.kind for e in _rows(engine, CaseEvent)]
    assert kinds == [
        "case_opened",
        "message_received",
        "rules_evaluated",
        "sender_unverified",  # dr@medecin.test is in no directory: accepted, flagged
        "reply_queued",
        "offer_sent",
        "reply_queued",
    ]
    # processing again changes nothing: idempotent
    assert await pipeline.drain() == []
    assert len(_rows(engine, OutboundMessage)) == 2


async def test_a_batch_reads_its_rows_in_one_statement(engine: Engine) -> None:
    """The decide transaction reads its messages' rows (without their bytes) in one SELECT,
    not one per message."""
    pipeline = _pipeline(engine, _config())
    for key in "abc":
        store_inbound(engine, _mail(COMPLETE, sender=f"{key}@medecin.test"), key)
    outcomes, seen = await _drain_seeing_statements(engine, pipeline)
    assert [o.status for o in outcomes] == ["processed"] * 3
    # Stage 1 loads each message with its bytes to parse it; stage 2 reads them without.
    rows_read = [
        s
        for s in seen
        if s.startswith("select inbound_message.id,")
        and "from inbound_message" in s
        and "inbound_raw" not in s
    ]
    assert len(rows_read) == 1, rows_read


async def _drain_seeing_statements(
    engine: Engine, pipeline: Pipeline
) -> tuple[list[StageOutcome], list[str]]:
    """What a drain decided, and every statement it ran (lower case, spaces collapsed)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.lower().split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        return await pipeline.drain(), seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _reads_of_bytes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("select") and "inbound_raw.raw" in s]


async def test_a_claim_reads_its_messages_bytes_with_it(engine: Engine) -> None:
    """Stage 1 gets each claimed message's bytes from the claim's own query, not from a
    query (and a session) per message."""
    pipeline = _pipeline(engine, _config())
    for key in "abc":
        store_inbound(engine, _mail(COMPLETE, sender=f"{key}@medecin.test"), key)
    outcomes, seen = await _drain_seeing_statements(engine, pipeline)
    assert [o.status for o in outcomes] == ["processed"] * 3
    assert len(_reads_of_bytes(seen)) == 1, _reads_of_bytes(seen)


async def test_a_message_too_large_for_its_claim_is_read_on_its_own(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _mail(COMPLETE, sender="a@medecin.test")
    large = _mail(COMPLETE + "Précisions : " + "x" * 2_000 + "\n", sender="b@medecin.test")
    monkeypatch.setattr(worker, "CLAIM_READS_UP_TO", len(small) + 100)
    pipeline = _pipeline(engine, _config())
    store_inbound(engine, small, "a")
    store_inbound(engine, large, "b")
    outcomes, seen = await _drain_seeing_statements(engine, pipeline)
    assert [o.status for o in outcomes] == ["processed"] * 2
    reads = _reads_of_bytes(seen)
    assert len(reads) == 2 and "case when" in reads[0] and "case when" not in reads[1], reads
    assert {r.recipient for r in _rows(engine, OutboundMessage) if r.kind == "ack"} == {
        "a@medecin.test",
        "b@medecin.test",
    }


async def test_failing_message_is_retried_then_quarantined_with_reply(engine: Engine) -> None:
    calls = 0

    async def broken(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
        nonlocal calls
        calls += 1
        raise RuntimeError("parser exploded")

    pipeline = _pipeline(engine, _config(max_attempts=3), broken)
    store_inbound(engine, _mail(COMPLETE), "a")
    for _ in range(3):
        await pipeline.drain()
    (row,) = _rows(engine, InboundMessage)
    assert calls == 3 and row.status == "quarantined" and row.attempts == 3
    assert "RuntimeError" in (row.error or "")
    assert _raw(engine, row)  # raw bytes kept
    (reply,) = _rows(engine, OutboundMessage)
    assert reply.kind == "unreadable"
    msg = email.message_from_bytes(_raw(engine, reply), policy=email.policy.default)
    assert "n'avons pas pu le traiter" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_oversized_message_is_quarantined_unparsed(engine: Engine) -> None:
    async def never(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
        raise AssertionError("must not parse")

    pipeline = _pipeline(engine, _config(), never)
    store_inbound(engine, _mail(COMPLETE + "x" * 300_000), "big")
    await pipeline.drain()
    (row,) = _rows(engine, InboundMessage)
    assert row.status == "quarantined" and "too large" in (row.error or "")
    (reply,) = _rows(engine, OutboundMessage)
    assert reply.kind == "too_large"


async def test_auto_reply_is_ignored_without_reply(engine: Engine) -> None:
    pipeline = _pipeline(engine, _config())
    store_inbound(engine, _mail("Absent", Auto_Submitted="auto-replied"), "a")
    await pipeline.drain()
    (row,) = _rows(engine, InboundMessage)
    assert row.status == "ignored" and "auto-submitted" in (row.error or "")
    assert _rows(engine, OutboundMessage) == [] and _rows(engine, Case) == []


async def test_follow_up_with_reference_completes_the_case(engine: Engine) -> None:
    pipeline = _pipeline(engine, _config())
    store_inbound(engine, _mail("Nom : DURAND\nPrénom : Jeanne\nMédecin traitant : non\n"), "a")
    await pipeline.drain()
    (case,) = _rows(engine, Case)
    assert case.status == "incomplete"
    follow = _mail(COMPLETE, subject=f"Re: [{case.reference}] Informations manquantes")
    store_inbound(engine, follow, "b")
    await pipeline.drain()
    (case,) = _rows(engine, Case)
    assert len(_rows(engine, Case)) == 1
    kinds = [r.kind for r in _rows(engine, OutboundMessage)]
    # Complete now: rules pass, the patient is offered to a GP, the sender is told.
    assert kinds == ["incomplete", "offer", "follow_up"]
    assert case.status == "routed"
    assert "follow_up_received" in [e.kind for e in _rows(engine, CaseEvent)]


async def test_replies_per_sender_are_rate_limited(engine: Engine) -> None:
    pipeline = _pipeline(engine, _config())
    for i in range(5):
        store_inbound(engine, _mail(COMPLETE), f"k{i}")
    await pipeline.drain()
    assert len(_rows(engine, Case)) == 5
    to_sender = [r for r in _rows(engine, OutboundMessage) if r.recipient == "dr@medecin.test"]
    assert len(to_sender) == 3  # rate_limit_per_hour = 3


async def test_parse_durations_are_observed_by_kind(engine: Engine) -> None:
    metrics = Metrics()
    pipeline = _pipeline(engine, _config(), metrics=metrics)
    store_inbound(engine, _mail(COMPLETE), "a")
    store_inbound(engine, _mail(COMPLETE), "b")
    await pipeline.drain()
    text = metrics.render().decode()
    assert 'aiguilleur_parse_duration_seconds_count{kind="signalement"} 2.0' in text


async def test_a_decision_that_fails_rolls_back_alone_in_its_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three messages decided in one transaction: the middle one raises after writing its
    case; its savepoint takes everything it wrote, the others commit, and it is retried."""
    from gateway.cases.flow import CaseFlow, Incoming
    from gateway.cases.intake import decide
    from gateway.pipeline import dispatch

    def flaky(flow: CaseFlow, case: Case, incoming: Incoming | None) -> str | None:
        reply = decide(flow, case, incoming)
        if case.sender == "broken@medecin.test":
            raise RuntimeError("routing exploded after writing")
        return reply

    monkeypatch.setattr(dispatch, "decide", flaky)
    pipeline = _pipeline(engine, _config(max_attempts=3, retry_delay=60))
    store_inbound(engine, _mail(COMPLETE, sender="a@medecin.test"), "a")
    store_inbound(engine, _mail(COMPLETE, sender="broken@medecin.test"), "b")
    store_inbound(engine, _mail(COMPLETE, sender="c@medecin.test"), "c")
    outcomes = await pipeline.drain()
    assert [o.status for o in outcomes] == ["processed", "received", "processed"]
    rows = sorted(_rows(engine, InboundMessage), key=lambda r: r.id)
    assert [r.status for r in rows] == ["processed", "received", "processed"]
    assert rows[1].attempts == 1 and "routing exploded" in (rows[1].error or "")
    assert rows[1].case_id is None and rows[1].parsed_json is None  # nothing of it stayed
    cases = _rows(engine, Case)
    assert sorted(c.sender for c in cases) == ["a@medecin.test", "c@medecin.test"]
    recipients = {o.recipient for o in _rows(engine, OutboundMessage)}
    assert "broken@medecin.test" not in recipients
    assert {"a@medecin.test", "c@medecin.test"} <= recipients
    # The retry, once the fault is gone, completes it exactly once.
    monkeypatch.setattr(dispatch, "decide", decide)
    with repo.session_for(engine) as s:
        row = s.get(InboundMessage, rows[1].id)
        assert row is not None
        row.next_attempt_at = rows[0].received_at
        s.commit()
    await pipeline.drain()
    assert [r.status for r in _rows(engine, InboundMessage)] == ["processed"] * 3
    assert len(_rows(engine, Case)) == 3


async def test_a_database_outage_never_ends_the_pipeline(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loops = LoopHealth(backoff_base=0.01, backoff_max=0.02)
    pipeline = pipeline_for(engine, _config(poll_interval=0.01), loops=loops)
    store_inbound(engine, _mail(COMPLETE), "k1")
    real_claim = pipeline._claim
    outage = {"left": 3}
    seen_failing: list[bool] = []

    def claim(limit: int) -> list[ClaimedInbound]:
        seen_failing.append("pipeline_claim" in loops.failing())
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))
        return real_claim(limit)

    monkeypatch.setattr(pipeline, "_claim", claim)
    stop = asyncio.Event()
    runner = asyncio.create_task(pipeline.run(stop))
    await eventually(lambda: bool(_rows(engine, Case)))
    assert not runner.done(), "the pipeline ended on a database error"
    assert len(_rows(engine, Case)) == 1  # the message waited in the database, then went on
    assert seen_failing[:4] == [False, True, True, True]
    assert await eventually(lambda: loops.failing() == {})
    stop.set()
    await runner


@pytest.mark.parametrize(
    "code", ["parse.timeout", "parse.memory_exceeded", "parse.worker_died", "parse.internal_error"]
)
async def test_a_failed_parse_is_quarantined_never_answered_as_incomplete(
    engine: Engine, code: str
) -> None:
    async def failed(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
        parsed = parse_message(raw, default_kind=kind)
        return ParsedMessage(envelope=parsed.envelope, request=Request(problems=[problem(code)]))

    pipeline = _pipeline(engine, _config(), failed)
    store_inbound(engine, _mail(COMPLETE), "a")
    (outcome,) = await pipeline.drain()
    (row,) = _rows(engine, InboundMessage)
    assert outcome.status == row.status == "quarantined"
    assert (row.error or "").startswith(code) and _raw(engine, row)
    assert _rows(engine, Case) == []  # no "incomplete" case built from what was not read
    (reply,) = _rows(engine, OutboundMessage)
    assert reply.kind == "unreadable"
    assert await pipeline.drain() == []  # kept for a coordinator, not retried on its own


async def test_an_unreadable_sender_is_quarantined_not_ignored(engine: Engine) -> None:
    # 10,000 encoded words: the From header is cut before the stdlib parses it, no address.
    words = " ".join(["=?utf-8?q?a?="] * 10_000)
    raw = _mail(COMPLETE).replace(b"From: dr@medecin.test", f"From: {words} <a@b.test>".encode())
    pipeline = _pipeline(engine, _config())
    store_inbound(engine, raw, "a")
    (outcome,) = await pipeline.drain()
    (row,) = _rows(engine, InboundMessage)
    assert outcome.status == row.status == "quarantined"
    assert (row.error or "").startswith("message.sender_unreadable")
    assert _rows(engine, Case) == [] and _rows(engine, OutboundMessage) == []


async def test_the_decide_stage_runs_on_the_loop_on_sqlite_in_a_thread_on_postgresql(
    engine: Engine,
) -> None:
    """On SQLite a batch's statements run on the loop's thread (handed to a thread, they
    contended with the loop for the GIL); taking the writer's lock does not. On PostgreSQL,
    where every statement waits for a round trip, the whole batch runs in a thread."""
    seen: list[tuple[str, int]] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append((" ".join(statement.lower().split()), threading.get_ident()))

    pipeline = _pipeline(engine, _config())
    store_inbound(engine, _mail(COMPLETE), "a")
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert [o.status for o in await pipeline.drain()] == ["processed"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    loop_thread = threading.get_ident()
    opened = [t for s, t in seen if s.startswith("insert into cases")]
    assert len(opened) == 1
    if is_postgres(engine):
        assert opened != [loop_thread]
    else:
        assert opened == [loop_thread]
        assert all(t != loop_thread for s, t in seen if s.startswith("begin"))


async def test_a_decide_waiting_for_the_writer_lock_leaves_the_loop_free(
    tmp_path: Path,
) -> None:
    engine = migrated_sqlite(tmp_path / "lock.db")
    try:
        pipeline = _pipeline(engine, _config())
        store_inbound(engine, _mail(COMPLETE), "a")
        claimed = await asyncio.to_thread(pipeline._claim, 10)
        prepared = [await pipeline._prepare(message) for message in claimed]
        holding, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with repo.session_for(engine) as session:
                session.connection()  # BEGIN IMMEDIATE: the process's writer lock
                holding.set()
                release.wait(10)

        holder = asyncio.ensure_future(asyncio.to_thread(hold_the_lock))
        await asyncio.to_thread(holding.wait, 10)
        decide = asyncio.ensure_future(pipeline._decide(prepared))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not decide.done()  # the loop ran while the batch waited
        # A writer's session on the loop would wait for the batch, which waits for the loop:
        # it fails at once instead of after the lock's 30 s.
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="in a thread"), repo.session_for(engine) as s:
            s.connection()
        assert time.monotonic() - started < 5
        release.set()
        await holder
        assert [o.status for o in await decide] == ["processed"]
    finally:
        engine.dispose()
