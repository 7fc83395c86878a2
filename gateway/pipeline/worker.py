"""The pipeline: stored message → parsed → case and reply, with a durable status after each stage.

Stage 1 loads and parses each message (CPU, in a worker process), several at once.
Stage 2 decides what is parsed, a batch at a time, in ONE transaction: each message in its own
savepoint writes its parse result, its case, events and replies, and its status ``processed``.
One commit (one fsync) then serves the whole batch, and a message that fails rolls back alone.
A failure is retried; after ``max_attempts`` the message is quarantined with its raw bytes
kept, and the sender is told when a reply is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, bindparam
from sqlmodel import Session, col, select

from gateway import failpoints
from gateway.cases.flow import CaseFlow, Incoming
from gateway.cases.services import RoutingServices
from gateway.config import Config, MailboxConfig
from gateway.loops import LoopHealth
from gateway.metrics import Metrics
from gateway.outbox.queue import Mailer
from gateway.pipeline.dispatch import Handled, Inbound, delivery_report, dispatch
from gateway.pipeline.quarantine import quarantine, quarantine_reply
from gateway.replies.compose import ReplyRenderer
from gateway.replies.facts import ReplyKind
from gateway.storage import repo
from gateway.storage.db import WriterLock, writer_lock
from gateway.storage.models import (
    InboundMessage,
    InboundStatus,
    utcnow,
)
from gateway.storage.repo import ClaimedInbound
from gateway.waiting import thread_to_the_end, wait_any
from parsers import ParsedMessage
from parsers.loop_guard import no_reply_reason
from parsers.problems import problem
from parsers.request import RequestKind

__all__ = ["ParseFn", "Pipeline", "StageOutcome"]

log = structlog.get_logger("aiguilleur.pipeline")

ParseFn = Callable[[bytes, RequestKind | None], Awaitable[ParsedMessage]]
LEASE = timedelta(minutes=5)
# A claim reads the bytes of messages up to this size with it; larger ones are read one at a
# time when parsed, so a claim of large messages never holds them all in memory.
CLAIM_READS_UP_TO = 512 * 1024


# Built once, as the claims are: a batch's rows, by id.
_BATCH_ROWS = select(InboundMessage).where(
    col(InboundMessage.id).in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class StageOutcome:
    inbound_id: int
    status: InboundStatus
    case_reference: str | None = None
    reply_kind: str | None = None  # the reply queued to the writer
    answer: str | None = None  # what a doctor's message was taken as


@dataclass(frozen=True)
class _Prepared:
    """A claimed message after stage 1: parsed, or why it will not be decided."""

    inbound_id: int
    mailbox: MailboxConfig | None = None
    parsed: ParsedMessage | None = None
    error: Exception | None = None  # stage 1 failed: counts as an attempt
    oversized: bool = False
    done: InboundStatus | None = None  # already past the pipeline (another worker, a replay)


async def _fill(
    items: list[_Prepared],
    ready: asyncio.Queue[_Prepared],
    batch: int,
    coming: Callable[[], bool],
    wait: float,
) -> None:
    """Add to ``items`` what is ready, up to ``batch``; while parses are under way, wait up
    to ``wait`` seconds for them. A batch has a cost of its own (the writer's lock, a
    commit, a pass of the outbox): under load, parses end one at a time and a batch of one
    paid it for each message. With nothing under way, nothing waits."""
    deadline = asyncio.get_running_loop().time() + wait
    while len(items) < batch:
        if not ready.empty():
            items.append(ready.get_nowait())
            continue
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0 or not coming():
            return
        try:
            items.append(await asyncio.wait_for(ready.get(), remaining))
        except TimeoutError:
            return


class Pipeline:
    """Claims stored messages and carries each through its stages. Dependencies are explicit."""

    def __init__(
        self,
        *,
        config: Config,
        engine: Engine,
        parse: ParseFn,
        renderer: ReplyRenderer,
        services: RoutingServices,
        owner: str,
        outbox_wakeup: asyncio.Event | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
        loops: LoopHealth | None = None,
    ) -> None:
        self._metrics = metrics
        self._loops = loops or LoopHealth()
        self._config = config
        self._engine = engine
        self._reader = repo.reader(engine)
        self._parse = parse
        self._renderer = renderer
        self._services = services
        self._owner = owner
        self._outbox_wakeup = outbox_wakeup
        self._clock = clock
        self._own = config.own_addresses()
        # SQLite's writers queue on this lock: there, the decide batch runs on the loop.
        self._writer_lock = writer_lock(engine)
        self.wakeup = asyncio.Event()

    # -- claiming -----------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[ClaimedInbound]:
        with repo.session_for(self._engine) as session:
            ids = repo.claim_inbound(
                session, owner=self._owner, limit=limit, lease=LEASE, now=self._clock()
            )
            # Read with the claim: one query, where a load per message cost a session each.
            claimed = repo.claimed_inbound(session, ids, raw_up_to=CLAIM_READS_UP_TO)
            session.commit()
            return claimed

    async def run(self, stop: asyncio.Event) -> None:
        """Parse with ``workers`` concurrent tasks and decide in batches until ``stop`` is set."""
        workers = self._config.pipeline.workers
        batch = self._config.pipeline.decide_batch
        claimed: asyncio.Queue[ClaimedInbound] = asyncio.Queue(maxsize=workers * 2)
        # Bounded, so a backlog waits in the database and not in memory.
        ready: asyncio.Queue[_Prepared] = asyncio.Queue(maxsize=batch * 2)

        preparing = 0  # messages taken by a preparer and not yet ready

        async def preparer() -> None:
            nonlocal preparing
            while True:
                message = await claimed.get()
                preparing += 1
                try:
                    prepared = await self._prepare(message)
                finally:
                    preparing -= 1
                try:
                    await ready.put(prepared)
                finally:
                    claimed.task_done()

        def coming() -> bool:
            return preparing > 0 or not claimed.empty()

        async def decider() -> None:
            while True:
                items = [await ready.get()]
                await _fill(items, ready, batch, coming, self._config.pipeline.decide_wait)
                try:
                    await self._decide(items)
                    self._loops.ok("pipeline_decide")
                except Exception as exc:  # the database is down: the leases expire, retried
                    self._loops.failed("pipeline_decide", exc)
                finally:
                    for _ in items:
                        ready.task_done()

        tasks = [asyncio.create_task(preparer(), name=f"parse-{i}") for i in range(workers)]
        tasks.append(asyncio.create_task(decider(), name="decide"))
        try:
            while not stop.is_set():
                self.wakeup.clear()
                try:
                    messages = await asyncio.to_thread(self._claim, workers * 4)
                    self._loops.ok("pipeline_claim")
                except Exception as exc:  # the database is down: try again, later each time
                    await wait_any(stop, timeout=self._loops.failed("pipeline_claim", exc))
                    continue
                for message in messages:
                    await claimed.put(message)
                if messages:
                    continue
                await claimed.join()
                await ready.join()
                await wait_any(self.wakeup, stop, timeout=self._config.pipeline.poll_interval)
            await claimed.join()  # drain: finish what was claimed
            await ready.join()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> list[StageOutcome]:
        """Process everything due now, then return (the demo and `aiguilleur process`)."""
        outcomes: list[StageOutcome] = []
        while messages := await asyncio.to_thread(self._claim, 50):
            prepared = await asyncio.gather(*(self._prepare(m) for m in messages))
            outcomes.extend(await self._decide(prepared))
        return outcomes

    # -- stage 1: load and parse ----------------------------------------------------------------

    async def _prepare(self, message: ClaimedInbound) -> _Prepared:
        inbound_id = message.id
        try:
            if message.status not in repo.PENDING_INBOUND:
                return _Prepared(inbound_id, done=InboundStatus(message.status))
            mailbox = self._config.mailbox(message.mailbox)
            if message.size > self._config.limits.max_message_bytes:
                return _Prepared(inbound_id, mailbox, oversized=True)
            parsed = await self._stage_parse(message, mailbox)
            failpoints.hit("pipeline.after_parse")
            return _Prepared(inbound_id, mailbox, parsed=parsed)
        except Exception as exc:
            return _Prepared(inbound_id, error=exc)

    def _load_raw(self, inbound_id: int) -> bytes:
        with Session(self._reader) as session:
            raw = repo.inbound_raw(session, inbound_id)
            if raw is None:
                raise LookupError(f"inbound {inbound_id} vanished")
            return raw

    async def _stage_parse(
        self, message: ClaimedInbound, mailbox: MailboxConfig | None
    ) -> ParsedMessage:
        if message.status == InboundStatus.PARSED and message.parsed_json:
            return ParsedMessage.model_validate_json(message.parsed_json)
        spec = self._services.programmes.get(mailbox.programme) if mailbox else None
        default_kind = RequestKind(spec.kind) if spec else None
        raw = message.raw
        if raw is None:  # too large to be read with the claim
            raw = await asyncio.to_thread(self._load_raw, message.id)
        started = asyncio.get_running_loop().time()  # the parse alone, as the metric says
        parsed = await self._parse(raw, default_kind)
        elapsed = asyncio.get_running_loop().time() - started
        if self._metrics is not None:
            self._metrics.observe_parse(parsed.request.kind.value, elapsed)
        log.info(
            "message_parsed",
            inbound_id=message.id,
            kind=parsed.request.kind.value,
            problems=len(parsed.request.problems),
            seconds=round(elapsed, 4),
        )
        return parsed

    # -- stage 2: decide, a batch per transaction --------------------------------------------

    async def _decide(self, items: Sequence[_Prepared]) -> list[StageOutcome]:
        if self._writer_lock is not None:
            results = await self._decide_batch_on_loop(self._writer_lock, items)
        else:
            results = await asyncio.to_thread(self._decide_batch, items)
        outcomes: list[StageOutcome] = []
        for item, result in zip(items, results, strict=True):
            if isinstance(result, Exception):
                result = await asyncio.to_thread(self._fail, item.inbound_id, result)
            outcomes.append(result)
        failpoints.hit("pipeline.after_decide")
        if self._outbox_wakeup is not None and any(o.reply_kind for o in outcomes):
            self._outbox_wakeup.set()
        return outcomes

    def _decide_batch(self, items: Sequence[_Prepared]) -> list[StageOutcome | Exception]:
        """The batch in a thread: on PostgreSQL every statement waits for a round trip."""
        with repo.session_for(self._engine) as session:
            results, decided = self._decide_in(session, items)
            results = self._commit(session, results, decided)
        _log_processed(results)
        return results

    async def _decide_batch_on_loop(
        self, lock: WriterLock, items: Sequence[_Prepared]
    ) -> list[StageOutcome | Exception]:
        """The batch on the event loop's thread, on SQLite, where no statement waits for a
        network: handed to a thread, it contended with the loop for the GIL at each of its
        statements (11 % more CPU a request). What may wait runs in a thread all the same:
        taking the writer's lock (BEGIN IMMEDIATE), and the commit's fsync with the lock's
        release, so that the lock never waits for the loop. Nothing on the loop's thread may
        take that lock itself (every database call of the daemon goes through a thread): it
        would wait for this batch, which waits for the loop; ``loop_batch`` makes it fail."""
        session = repo.session_for(self._engine)
        try:
            with lock.loop_batch():
                await thread_to_the_end(session.connection)
                results, decided = self._decide_in(session, items)
            results = await thread_to_the_end(self._commit, session, results, decided)
        finally:
            session.close()  # a failure before the commit; no thread holds the session now
        _log_processed(results)
        return results

    def _decide_in(
        self, session: Session, items: Sequence[_Prepared]
    ) -> tuple[list[StageOutcome | Exception], list[int]]:
        """Each message in its own savepoint of ``session``'s transaction, not committed:
        the results, and the positions of those this transaction wrote."""
        results: list[StageOutcome | Exception] = []
        decided: list[int] = []
        now = self._clock()
        # One SELECT for the batch's rows: each message's own lookup then finds its row
        # in the session instead of querying for it (held here: the session's identity
        # map keeps unmodified rows only while something else refers to them).
        wanted = [i.inbound_id for i in items if i.error is None and i.done is None]
        rows = session.exec(_BATCH_ROWS, params={"ids": wanted}).all() if wanted else []
        for item in items:
            if item.error is not None:
                results.append(item.error)
                continue
            if item.done is not None:
                results.append(StageOutcome(item.inbound_id, item.done))
                continue
            try:
                with session.begin_nested(), repo.buffered_events(session):
                    results.append(self._decide_one(session, item, now))
                    repo.write_changes(session)  # before the savepoint's own flush
                decided.append(len(results) - 1)
            except Exception as exc:
                results.append(exc)
                # Rows written outside the unit of work are not restored by the rollback.
                session.expire_all()
        del rows
        return results, decided

    @staticmethod
    def _commit(
        session: Session, results: list[StageOutcome | Exception], decided: Sequence[int]
    ) -> list[StageOutcome | Exception]:
        try:
            session.commit()
        except Exception as exc:
            # Nothing of the batch is durable: each message counts a failed attempt.
            for position in decided:
                results[position] = exc
        finally:
            session.close()  # the connection back to the pool: on SQLite, the writer's lock
        return results

    def _decide_one(self, session: Session, item: _Prepared, now: datetime) -> StageOutcome:
        inbound_id = item.inbound_id
        # Its bytes (``InboundRaw``) stay in the database unless a step needs them.
        row = session.get(InboundMessage, inbound_id)
        assert row is not None and row.id is not None
        if row.status not in repo.PENDING_INBOUND:
            return StageOutcome(inbound_id, InboundStatus(row.status))
        if item.oversized:
            mailer = Mailer(session, self._renderer, self._config, now)
            error = f"message too large: {row.size} bytes"
            reply = quarantine(
                mailer, row, now, error=error, kind=ReplyKind.TOO_LARGE, own=self._own
            )
            return StageOutcome(row.id, InboundStatus.QUARANTINED, reply_kind=reply)
        assert item.parsed is not None
        parsed_json = item.parsed.model_dump_json()
        outcome = self._decide_parsed(session, row, item, now)
        # Assigned last, so that the row's one UPDATE carries it with the final status: set
        # first, the case work's first query would flush it in an UPDATE of its own.
        row.parsed_json = parsed_json
        return outcome

    def _decide_parsed(
        self, session: Session, row: InboundMessage, item: _Prepared, now: datetime
    ) -> StageOutcome:
        inbound_id = item.inbound_id
        parsed, mailbox = item.parsed, item.mailbox
        assert parsed is not None and row.id is not None
        envelope = parsed.envelope
        reason = no_reply_reason(envelope, self._own)
        if (unread := _unreadable(parsed, reason)) is not None:
            # Never "ignored", never a reply built from what could not be read: kept for
            # a coordinator, who can release it once the parser is fixed.
            mailer = Mailer(session, self._renderer, self._config, now)
            reply = quarantine(
                mailer, row, now, error=unread, kind=ReplyKind.UNREADABLE, own=self._own
            )
            log.error("message_quarantined", inbound_id=inbound_id, error=unread.split(":")[0])
            return StageOutcome(inbound_id, InboundStatus.QUARANTINED, reply_kind=reply)
        if parsed.report_kind is not None:
            reason = reason or f"report: {parsed.report_kind}"
            flow = CaseFlow(
                session, self._services, Mailer(session, self._renderer, self._config, now)
            )
            if mailbox is not None and (
                taken := delivery_report(Inbound(flow, Incoming(row=row, parsed=parsed), mailbox))
            ):
                return self._finish(row, taken, now)
        if reason is not None or mailbox is None:
            row.status = InboundStatus.IGNORED
            row.error = reason or f"unknown mailbox {row.mailbox}"
            row.lease_until = None
            row.updated_at = now
            log.info("message_ignored", inbound_id=inbound_id, reason=row.error)
            return StageOutcome(inbound_id, InboundStatus.IGNORED)
        flow = CaseFlow(session, self._services, Mailer(session, self._renderer, self._config, now))
        handled = dispatch(Inbound(flow, Incoming(row=row, parsed=parsed), mailbox))
        return self._finish(row, handled, now)

    @staticmethod
    def _finish(row: InboundMessage, handled: Handled, now: datetime) -> StageOutcome:
        """Mark the message processed, in the caller's transaction."""
        assert row.id is not None
        row.status = InboundStatus.PROCESSED
        case = handled.case
        row.case_id = case.id if case is not None else None
        row.lease_until = None
        row.updated_at = now
        return StageOutcome(
            row.id,
            InboundStatus.PROCESSED,
            case.reference if case else None,
            handled.reply,
            handled.answer,
        )

    # -- failures -------------------------------------------------------------------------------

    def _fail(self, inbound_id: int, exc: BaseException) -> StageOutcome:
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
        now = self._clock()
        with repo.session_for(self._engine) as session:
            row = session.get(InboundMessage, inbound_id)
            if row is None:
                return StageOutcome(inbound_id, InboundStatus.QUARANTINED)
            row.attempts += 1
            row.error = error
            row.lease_until = None
            row.updated_at = now
            reply = None
            if row.attempts >= self._config.pipeline.max_attempts:
                row.status = InboundStatus.QUARANTINED
                mailer = Mailer(session, self._renderer, self._config, now)
                reply = quarantine_reply(mailer, row, ReplyKind.UNREADABLE, self._own)
                log.error(
                    "message_quarantined", inbound_id=inbound_id, error_type=type(exc).__name__
                )
            else:
                delay = self._config.pipeline.retry_delay * (2 ** (row.attempts - 1))
                row.next_attempt_at = now + timedelta(seconds=delay)
                log.warning(
                    "message_failed",
                    inbound_id=inbound_id,
                    attempt=row.attempts,
                    error_type=type(exc).__name__,
                )
            status = InboundStatus(row.status)
            session.commit()
        return StageOutcome(inbound_id, status, reply_kind=reply)


def _log_processed(results: Sequence[StageOutcome | Exception]) -> None:
    for result in results:
        if isinstance(result, StageOutcome) and result.status == InboundStatus.PROCESSED:
            log.info(
                "message_processed",
                inbound_id=result.inbound_id,
                case=result.case_reference,
                reply=result.reply_kind,
                answer=result.answer,
            )


# The parse itself failed: its result says nothing about the message (parse_pool, parsers).
PARSE_FAILURES = frozenset(
    {"parse.timeout", "parse.memory_exceeded", "parse.worker_died", "parse.internal_error"}
)


def _unreadable(parsed: ParsedMessage, reason: str | None) -> str | None:
    """Why a parse result must go to quarantine (its code first), or None when it can be
    used: a failed parse, or no sender read from a message that is not a report."""
    for found in parsed.request.problems:
        if found.code in PARSE_FAILURES:
            return f"{found.code}: {found.message_fr}"
    if reason == "no sender address" and parsed.report_kind is None:
        unread = problem("message.sender_unreadable")
        return f"{unread.code}: {unread.message_fr}"
    return None
