from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gateway.config import SmtpConfig
from gateway.errors import PermanentDeliveryError, TemporaryDeliveryError
from gateway.loops import LoopHealth
from gateway.metrics import Metrics
from gateway.outbox import Outbox, SmtpEnvelope, sender
from gateway.outbox.journal import SentJournal
from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import OutboundMessage
from gateway.storage.repo import ClaimedOutbound, QueuedMail
from tests.support.database import migrated_sqlite
from tests.support.outbound import outbound_ack
from tests.support.waiting import eventually


class RecordingTransport:
    """A fake SMTP peer: records what it is given, fails as scripted."""

    def __init__(self, script: list[Exception | None]) -> None:
        self.script = script
        self.sent: list[SmtpEnvelope] = []
        self.closed = False

    async def send(self, item: SmtpEnvelope) -> None:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append(item)

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _queue(engine: Engine, n: int, recipients: int = 0) -> None:
    """``n`` mails; with ``recipients``, shared round robin by that many people."""
    with repo.session_for(engine) as s:
        for i in range(n):
            recipient = f"dr{i % recipients if recipients else i}@x.test"
            repo.queue_outbound(
                s,
                outbound_ack(f"c{i}", recipient, message_id=f"<m{i}@x>", raw=f"raw {i}".encode()),
            )
        s.commit()


def _rows(engine: Engine) -> list[OutboundMessage]:
    with repo.session_for(engine) as s:
        from sqlmodel import col, select

        return list(s.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())


def _outbox(engine: Engine, transport: RecordingTransport, **smtp: object) -> Outbox:
    config = SmtpConfig(from_address="cpts@x.test", retry_base=0.01, retry_max=0.01, **smtp)
    return Outbox(config=config, engine=engine, transport=transport, owner="t")


async def test_sends_each_once_and_marks_sent(engine: Engine) -> None:
    _queue(engine, 3)
    transport = RecordingTransport([])
    outbox = _outbox(engine, transport)
    assert await outbox.deliver_due() == 3
    assert await outbox.deliver_due() == 0
    assert [e.recipient for e in transport.sent] == ["dr0@x.test", "dr1@x.test", "dr2@x.test"]
    assert all(r.status == "sent" and r.sent_at is not None for r in _rows(engine))


async def test_temporary_failure_is_retried_then_sent(engine: Engine) -> None:
    _queue(engine, 1)
    transport = RecordingTransport([TemporaryDeliveryError("421 try later")])
    outbox = _outbox(engine, transport)
    assert await outbox.deliver_due() == 0
    (row,) = _rows(engine)
    assert row.status == "pending" and row.attempts == 1 and "421" in (row.last_error or "")
    await asyncio.sleep(0.05)  # past the (tiny) backoff
    assert await outbox.deliver_due() == 1
    assert _rows(engine)[0].status == "sent"


async def test_permanent_failure_is_recorded_and_not_retried(engine: Engine) -> None:
    _queue(engine, 2)
    transport = RecordingTransport([PermanentDeliveryError("550 no such user")])
    outbox = _outbox(engine, transport)
    assert await outbox.deliver_due() == 1  # the second one still goes
    first, second = _rows(engine)
    assert first.status == "failed" and "550" in (first.last_error or "")
    assert second.status == "sent"


async def test_gives_up_after_max_attempts(engine: Engine) -> None:
    _queue(engine, 1)
    transport = RecordingTransport([TemporaryDeliveryError("421")] * 5)
    outbox = _outbox(engine, transport, max_attempts=2)
    for _ in range(3):
        await outbox.deliver_due()
        await asyncio.sleep(0.05)
    (row,) = _rows(engine)
    assert row.status == "failed" and row.attempts == 2


async def test_server_down_backs_off_the_whole_round(engine: Engine) -> None:
    from gateway.errors import ServerUnavailableError

    _queue(engine, 3)
    transport = RecordingTransport([ServerUnavailableError("connection refused")])
    outbox = _outbox(engine, transport)
    assert await outbox.deliver_due() == 0
    rows = _rows(engine)
    assert [r.attempts for r in rows] == [1, 1, 1] and {r.status for r in rows} == {"pending"}
    assert len(transport.sent) == 0 and transport.script == []  # one connection attempt only
    await asyncio.sleep(0.05)
    assert await outbox.deliver_due() == 3  # all go when the server is back


async def test_failures_are_counted_by_kind(engine: Engine) -> None:
    _queue(engine, 3)
    transport = RecordingTransport(
        [TemporaryDeliveryError("421 try later"), PermanentDeliveryError("550 no such user")]
    )
    metrics = Metrics()
    config = SmtpConfig(from_address="cpts@x.test", retry_base=60, retry_max=60)
    outbox = Outbox(config=config, engine=engine, transport=transport, owner="t", metrics=metrics)
    assert await outbox.deliver_due() == 1
    text = metrics.render().decode()
    assert 'aiguilleur_smtp_failures_total{kind="temporary"} 1.0' in text
    assert 'aiguilleur_smtp_failures_total{kind="permanent"} 1.0' in text


async def test_lanes_send_at_once_and_keep_each_recipients_order(engine: Engine) -> None:
    _queue(engine, 12, recipients=4)
    lanes = [RecordingTransport([]), RecordingTransport([])]
    config = SmtpConfig(from_address="cpts@x.test")
    outbox = Outbox(
        config=config, engine=engine, transport=lanes[0], owner="t", extra_transports=lanes[1:]
    )
    assert await outbox.deliver_due() == 12
    assert all(lane.sent for lane in lanes), "both connections carry mail"
    for lane in lanes:
        for recipient in {e.recipient for e in lane.sent}:
            mine = [e.raw for e in lane.sent if e.recipient == recipient]
            assert mine == sorted(mine, key=lambda r: int(r.split()[1]))
    everyone = [e.recipient for lane in lanes for e in lane.sent]
    assert sorted(everyone) == sorted(f"dr{i % 4}@x.test" for i in range(12))
    assert {r for lane in lanes for r in {e.recipient for e in lane.sent}} == {
        f"dr{i}@x.test" for i in range(4)
    }
    assert not any(  # a recipient never spans two connections
        {e.recipient for e in lanes[0].sent} & {e.recipient for e in lanes[1].sent}
    )
    assert all(r.status == "sent" for r in _rows(engine))


class MarkCheckingTransport(RecordingTransport):
    """Fails the test if a lane sends while a mail it sent before is not durably marked."""

    def __init__(self, durable_ids: Callable[[], set[int]]) -> None:
        super().__init__([])
        self.durable_ids = durable_ids
        self.unmarked_at_send: list[int] = []

    async def send(self, item: SmtpEnvelope) -> None:
        earlier = {int(e.raw.split()[1]) + 1 for e in self.sent}  # raw "raw i" is row id i + 1
        self.unmarked_at_send.append(len(earlier - await asyncio.to_thread(self.durable_ids)))
        await super().send(item)


def _sent_in_db(engine: Engine) -> set[int]:
    return {r.id for r in _rows(engine) if r.status == "sent" and r.id is not None}


async def test_a_lane_never_sends_while_its_last_mail_is_unmarked(engine: Engine) -> None:
    # After a crash at most one mail per connection may go out twice: the one between its 250
    # and its mark. So a lane's next mail waits for the previous mark, in the database here.
    _queue(engine, 12, recipients=6)
    lanes = [MarkCheckingTransport(lambda: _sent_in_db(engine)) for _ in range(2)]
    config = SmtpConfig(from_address="cpts@x.test", batch=4)
    outbox = Outbox(
        config=config, engine=engine, transport=lanes[0], owner="t", extra_transports=lanes[1:]
    )
    assert await outbox.deliver_due() == 12
    assert all(lane.sent for lane in lanes)
    assert [n for lane in lanes for n in lane.unmarked_at_send] == [0] * 12


def _journal_outbox(
    engine: Engine, path: Path, transport: RecordingTransport, *, batch: int = 4
) -> Outbox:
    config = SmtpConfig(from_address="cpts@x.test", batch=batch)
    return Outbox(
        config=config, engine=engine, transport=transport, owner="t", journal=SentJournal(path)
    )


async def test_with_a_journal_the_mark_is_the_journal_and_the_database_follows(
    tmp_path: Path,
) -> None:
    engine = migrated_sqlite(tmp_path / "a.db")
    _queue(engine, 8, recipients=3)
    journal = tmp_path / "a.db.sent"

    def durable() -> set[int]:
        return set(SentJournal(journal).entries()) | _sent_in_db(engine)

    lane = MarkCheckingTransport(durable)
    outbox = _journal_outbox(engine, journal, lane)
    assert await outbox.deliver_due() == 8
    outbox.close()
    assert lane.unmarked_at_send == [0] * 8
    assert all(r.status == "sent" and r.sent_at is not None for r in _rows(engine))
    assert SentJournal(journal).entries() == {}  # folded into the database, then forgotten
    engine.dispose()


async def test_the_marks_of_a_pass_reach_the_database_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One fold per 250 cost a database transaction (about 1 ms of CPU) per mail: the journal
    # already makes each mark durable, so the database learns a pass's marks at once.
    monkeypatch.setattr(sender, "FOLD_AFTER", 60.0)  # only the end of the pass folds
    engine = migrated_sqlite(tmp_path / "a.db")
    _queue(engine, 8, recipients=3)
    outbox = _journal_outbox(engine, tmp_path / "a.db.sent", RecordingTransport([]))
    folds: list[int] = []
    record_sent = outbox._record_sent

    def counted(rows: Sequence[QueuedMail]) -> None:
        folds.append(len(rows))
        record_sent(rows)

    monkeypatch.setattr(outbox, "_record_sent", counted)
    assert await outbox.deliver_due() == 8
    outbox.close()
    assert folds == [8]
    assert all(r.status == "sent" and r.attempts == 1 for r in _rows(engine))
    engine.dispose()


def _row(i: int) -> QueuedMail:
    return QueuedMail(i, None, "ack", f"dr{i}@x.test", f"<m{i}@x>")


async def test_a_long_pass_folds_its_marks_after_a_moment_or_a_full_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal: list[int] = []
    folded: list[list[int]] = []
    marks = sender._SentMarks(
        lambda rows: journal.extend(r.id for r in rows),
        fold=lambda rows: folded.append([r.id for r in rows]),
    )
    monkeypatch.setattr(sender, "FOLD_AFTER", 0.05)
    await marks.mark(_row(1))
    await marks.mark(_row(2))
    assert journal == [1, 2] and folded == []  # durable at once, in the database a bit later
    assert await eventually(lambda: folded == [[1, 2]])
    monkeypatch.setattr(sender, "FOLD_AFTER", 60.0)
    monkeypatch.setattr(sender, "FOLD_BATCH", 2)
    await marks.mark(_row(3))
    await marks.mark(_row(4))
    assert await eventually(lambda: folded == [[1, 2], [3, 4]])  # a full batch does not wait
    await marks.mark(_row(5))
    await marks.drain()  # the end of the pass does not wait either
    assert folded == [[1, 2], [3, 4], [5]]


async def test_a_crash_before_the_fold_sends_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = migrated_sqlite(tmp_path / "a.db")
    with repo.session_for(engine) as s:
        repo.queue_outbound(s, outbound_ack("c0", "dr@x.test", message_id="<m0@x>", raw=b"raw 0"))
        s.commit()
    journal = tmp_path / "a.db.sent"
    first = _journal_outbox(engine, journal, RecordingTransport([]))

    def database_down(rows: object) -> None:  # the fold never reaches the database
        raise OSError("database gone")

    monkeypatch.setattr(first, "_record_sent", database_down)
    assert await first.deliver_due() == 1
    first.close()
    (row,) = _rows(engine)
    assert row.status == "pending"  # the database does not know yet; the journal does
    with repo.session_for(engine) as s:  # as after a restart: our own leases are given back
        repo.release_own_leases(s, "t")
        s.commit()

    again = RecordingTransport([])
    second = _journal_outbox(engine, journal, again)
    assert await second.deliver_due() == 0
    second.close()
    assert again.sent == []
    (row,) = _rows(engine)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    assert SentJournal(journal).entries() == {}
    engine.dispose()


async def test_a_database_outage_never_ends_the_sender(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(engine, 2)
    transport = RecordingTransport([])
    loops = LoopHealth(backoff_base=0.01, backoff_max=0.02)
    config = SmtpConfig(from_address="cpts@x.test")
    outbox = Outbox(config=config, engine=engine, transport=transport, owner="t", loops=loops)
    real_claim = outbox._claim
    outage = {"left": 3}
    seen_failing: list[bool] = []

    def claim() -> Sequence[ClaimedOutbound]:
        seen_failing.append("outbox" in loops.failing())
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))
        return real_claim()

    monkeypatch.setattr(outbox, "_claim", claim)
    stop = asyncio.Event()
    runner = asyncio.create_task(outbox.run(stop, poll_interval=0.01))
    await eventually(lambda: len(transport.sent) == 2)
    assert not runner.done(), "the sender ended on a database error"
    assert len(transport.sent) == 2
    assert seen_failing[:4] == [False, True, True, True]  # red while failing
    assert await eventually(lambda: loops.failing() == {})  # and green again once it works
    stop.set()
    await runner
