"""The outbox sender: delivers queued replies, marks them sent only after the server's 250.

Temporary failures (4xx, connection) are retried with exponential backoff and jitter;
permanent ones (5xx) are recorded as failed, visible to coordinators and in metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, bindparam, update
from sqlmodel import Session, col

from gateway import failpoints
from gateway.config import SmtpConfig
from gateway.errors import (
    PermanentDeliveryError,
    ServerUnavailableError,
    TemporaryDeliveryError,
)
from gateway.loops import LoopHealth
from gateway.metrics import Metrics
from gateway.outbox.journal import SentJournal
from gateway.outbox.transports import SmtpEnvelope, Transport
from gateway.storage import repo
from gateway.storage.models import OutboundMessage, OutboundStatus, utcnow
from gateway.storage.repo import ClaimedOutbound, QueuedMail
from gateway.waiting import wait_any

__all__ = ["Outbox"]

log = structlog.get_logger("aiguilleur.outbox")
LEASE = timedelta(minutes=2)
# Journal marks are folded into the database at most this late (seconds), or once this many
# wait: far inside the claim's lease, so a folded-late mail is never claimed again.
FOLD_AFTER = 0.25
FOLD_BATCH = 256


def _lane(recipient: str, lanes: int) -> int:
    # A stable hash (not hash(), which is salted per process).
    return zlib.crc32(recipient.lower().encode()) % lanes if lanes > 1 else 0


def _return_path(config: SmtpConfig) -> str:
    # Replies are auto-replies: a null reverse-path would be safest against loops, but MSSanté
    # operators reject it; our own address is excluded by our loop guard instead.
    return config.from_address


class _SentMarks:
    """Makes each 250 durable before its lane sends again.

    A lane waits for its mail's mark before the next mail, so after a crash at most one mail per
    SMTP connection goes out again (with the same Message-ID). Marks from lanes that arrive while
    one write is under way share the next one (group commit). ``durable`` writes them where a
    crash cannot lose them; with a journal, ``fold`` then copies them into the database in the
    background, off the lanes' path.
    """

    def __init__(
        self,
        durable: Callable[[Sequence[QueuedMail]], None],
        fold: Callable[[Sequence[QueuedMail]], None] | None = None,
    ) -> None:
        self._durable = durable
        self._fold = fold
        self._waiting: list[tuple[QueuedMail, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._unfolded: list[QueuedMail] = []
        self._folder: asyncio.Task[None] | None = None
        self._fold_now = asyncio.Event()  # a full batch, or the pass is ending
        self._draining = False

    async def mark(self, row: QueuedMail) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await asyncio.to_thread(self._durable, [row for row, _ in batch])
                except Exception as exc:  # the lanes waiting on it see the error
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
                if self._fold is not None:
                    self._unfolded.extend(row for row, _ in batch)
                    if len(self._unfolded) >= FOLD_BATCH:
                        self._fold_now.set()
                    if self._folder is None:
                        self._folder = asyncio.create_task(self._folding())
        finally:
            self._writer = None

    async def _folding(self) -> None:
        assert self._fold is not None
        try:
            while self._unfolded:
                # The journal already holds these marks: the database may learn them a moment
                # later, in one transaction for many (a fold per mail cost ~1 ms of CPU each).
                if not self._draining and len(self._unfolded) < FOLD_BATCH:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._fold_now.wait(), FOLD_AFTER)
                self._fold_now.clear()
                rows, self._unfolded = self._unfolded, []
                await asyncio.to_thread(self._fold, rows)
        except Exception as exc:  # the journal keeps them: the next pass folds them first
            self._unfolded.clear()
            log.warning("sent_marks_not_folded", error_type=type(exc).__name__)
        finally:
            self._folder = None

    async def drain(self) -> None:
        self._draining = True  # the pass is over: nothing more will join the next fold
        self._fold_now.set()
        while (task := self._writer or self._folder) is not None:
            await task


class Outbox:
    def __init__(
        self,
        *,
        config: SmtpConfig,
        engine: Engine,
        transport: Transport,
        owner: str,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
        extra_transports: Sequence[Transport] = (),
        journal: SentJournal | None = None,
        loops: LoopHealth | None = None,
    ) -> None:
        self._config = config
        # SQLite: 250s are recorded in the journal first (see gateway/outbox/journal.py).
        self._journal = journal
        self._engine = engine
        # One lane per connection; a recipient always uses the same lane, so the mails one
        # person gets keep their order.
        self._lanes = [transport, *extra_transports]
        self._owner = owner
        self._clock = clock
        self._metrics = metrics
        self._loops = loops or LoopHealth()
        self.wakeup = asyncio.Event()

    def _claim(self) -> Sequence[ClaimedOutbound]:
        with repo.session_for(self._engine) as session:
            rows = repo.claim_outbound(
                session, owner=self._owner, limit=self._config.batch, lease=LEASE, now=self._clock()
            )
            session.commit()
            return rows

    def _record(self, row_id: int, *, sent: bool, error: Exception | None = None) -> OutboundStatus:
        now = self._clock()
        with repo.session_for(self._engine) as session:
            row = session.get(OutboundMessage, row_id)
            assert row is not None
            row.lease_until = None
            row.attempts += 1
            if sent:
                row.status = OutboundStatus.SENT
                row.sent_at = now
                row.last_error = None
                event = "reply_sent"
            elif (
                isinstance(error, PermanentDeliveryError)
                or row.attempts >= self._config.max_attempts
            ):
                row.status = OutboundStatus.FAILED
                row.last_error = str(error)
                event = "reply_failed"
            else:
                delay = min(
                    self._config.retry_max, self._config.retry_base * 2 ** (row.attempts - 1)
                )
                row.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
                row.last_error = str(error)
                event = "reply_retry"
            if row.case_id is not None and event != "reply_retry":
                repo.add_event(
                    session,
                    row.case_id,
                    event,
                    {"kind": row.kind, "message_id": row.message_id, "error": row.last_error},
                )
            status = OutboundStatus(row.status)
            session.commit()
            return status

    def _record_sent(self, rows: Sequence[QueuedMail]) -> None:
        """Mark mails sent after their 250: every mail sent meanwhile, in one transaction."""
        with repo.session_for(self._engine) as session:
            _mark_sent(session, rows, self._clock())
            session.commit()

    def _journal_sent(self, rows: Sequence[QueuedMail]) -> None:
        assert self._journal is not None
        self._journal.add((r.id for r in rows), self._clock().isoformat())

    def _fold(self, rows: Sequence[QueuedMail]) -> None:
        assert self._journal is not None
        self._record_sent(rows)
        self._journal.remove(r.id for r in rows)

    def _recover(self) -> None:
        """Copy the journal's marks (left by a crash or a failed fold) into the database.

        Runs before every claim, so a mail the journal knows was sent is never sent again.
        """
        assert self._journal is not None
        entries = self._journal.entries()
        if not entries:
            return
        with repo.session_for(self._engine) as session:
            rows = repo.queued_mails(session, list(entries), OutboundStatus.PENDING)
            for sent_at in sorted({entries[r.id] for r in rows}):
                same = [r for r in rows if entries[r.id] == sent_at]
                _mark_sent(session, same, datetime.fromisoformat(sent_at))
            session.commit()
        self._journal.remove(entries)
        log.info("sent_marks_recovered", count=len(rows))

    def _release(self, rows: Sequence[ClaimedOutbound]) -> None:
        with repo.session_for(self._engine) as session:
            session.connection().execute(
                update(OutboundMessage)
                .where(col(OutboundMessage.id).in_([r.id for r in rows]))
                .values(lease_until=None)
            )
            session.commit()

    async def deliver_due(self) -> int:
        """Send everything due now; returns how many were sent."""
        sent = 0
        if self._journal is not None:
            await asyncio.to_thread(self._recover)
            marks = _SentMarks(self._journal_sent, fold=self._fold)
        else:
            marks = _SentMarks(self._record_sent)
        upcoming: asyncio.Future[Sequence[ClaimedOutbound]] | None = None
        try:
            rows = await asyncio.to_thread(self._claim)
            while rows:
                # The next round is claimed while this one goes out: a claim may have to wait
                # for the pipeline's transaction to commit, and SMTP need not wait with it.
                upcoming = asyncio.ensure_future(asyncio.to_thread(self._claim))
                done, failed = await self._deliver(rows, marks)
                sent += done
                rows, upcoming = await upcoming, None
                if failed:  # one attempt per pass: retries wait for their backoff and a pass
                    if rows:
                        await asyncio.to_thread(self._release, rows)
                    return sent
            return sent
        finally:
            if upcoming is not None:  # left by an error: give its rows back at once
                with contextlib.suppress(Exception):
                    if claimed := await upcoming:
                        await asyncio.to_thread(self._release, claimed)
            await marks.drain()

    async def _deliver(
        self, rows: Sequence[ClaimedOutbound], marks: _SentMarks
    ) -> tuple[int, bool]:
        """Send one claimed round over every lane at once; returns (sent, whether any failed)."""
        lanes: list[list[ClaimedOutbound]] = [[] for _ in self._lanes]
        for claimed in rows:
            lanes[_lane(claimed.recipient, len(lanes))].append(claimed)
        done = await asyncio.gather(
            *(
                self._deliver_lane(transport, lane, marks)
                for transport, lane in zip(self._lanes, lanes, strict=True)
                if lane
            )
        )
        return sum(n for n, _ in done), any(f for _, f in done)

    async def _deliver_lane(
        self, transport: Transport, rows: Sequence[ClaimedOutbound], marks: _SentMarks
    ) -> tuple[int, bool]:
        """Send one lane's share of a round, in order, on its own connection."""
        sent = 0
        failed = False
        for index, row in enumerate(rows):
            try:
                await transport.send(
                    SmtpEnvelope(_return_path(self._config), row.recipient, row.raw)
                )
            except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
                if self._metrics is not None:
                    permanent = isinstance(exc, PermanentDeliveryError)
                    self._metrics.smtp_failure("permanent" if permanent else "temporary")
                status = await asyncio.to_thread(self._record, row.id, sent=False, error=exc)
                log.warning(
                    "reply_not_delivered",
                    outbound_id=row.id,
                    status=status.value,
                    error=str(exc)[:200],
                )
                failed = True
                if isinstance(exc, ServerUnavailableError):
                    # The server is down: the rest of the round failed for the same reason,
                    # so each backs off alike and none starves behind the first.
                    for other in rows[index + 1 :]:
                        await asyncio.to_thread(self._record, other.id, sent=False, error=exc)
                    return sent, True
                continue
            failpoints.hit("outbox.after_send")
            await marks.mark(row)
            sent += 1
            log.info("reply_delivered", outbound_id=row.id, kind=row.kind)
        return sent, failed

    async def run(self, stop: asyncio.Event, poll_interval: float = 2.0) -> None:
        try:
            while not stop.is_set():
                self.wakeup.clear()
                try:
                    await self.deliver_due()
                    self._loops.ok("outbox")
                    await wait_any(self.wakeup, stop, timeout=poll_interval)
                except Exception as exc:  # a database hiccup must not end the sender
                    await wait_any(stop, timeout=self._loops.failed("outbox", exc))
            try:
                await self.deliver_due()  # drain what is due before leaving
            except Exception as exc:  # the next start sends the rest
                self._loops.failed("outbox", exc)
        finally:
            for transport in self._lanes:
                await transport.close()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()


# Built once: the statement is the same for every fold but for its ids and time.
_MARK_SENT = (
    update(OutboundMessage)
    .where(
        col(OutboundMessage.id).in_(bindparam("ids", expanding=True)),
        # A DSN may come back before the mark: the bounce is the later truth.
        col(OutboundMessage.status) != OutboundStatus.BOUNCED,
    )
    .values(
        lease_until=None,
        attempts=OutboundMessage.attempts + 1,
        status=OutboundStatus.SENT,
        sent_at=bindparam("sent_at"),
        last_error=None,
    )
)


def _mark_sent(session: Session, rows: Sequence[QueuedMail], sent_at: datetime) -> None:
    session.connection().execute(_MARK_SENT, {"ids": [r.id for r in rows], "sent_at": sent_at})
    repo.add_events(
        session,
        [
            (r.case_id, "reply_sent", {"kind": r.kind, "message_id": r.message_id, "error": None})
            for r in rows
            if r.case_id is not None
        ],
    )
