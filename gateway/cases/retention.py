"""The retention policy (``[retention]``): personal data kept no longer than it is needed.

The daemon's timers run one pass at most every ``retention.interval_minutes``. A pass:

- empties the raw bytes of handled inbound mails (processed, ignored, duplicate) received more
  than ``raw_months`` ago, unless their case is still open (an offer forwards the request as
  received); and of replies sent that long ago, on the same condition;
- clears the parsed content of handled inbound mails older than ``parsed_months``;
- reduces closed cases to their audit trail ``closed_case_months`` after closing (and after
  their last change): the patient's identity, the request, the sender's address, message
  bytes, free text (notes, event and audit details, rule evidence) are removed; the reference,
  programme, statuses, dates, event kinds, actors, offers (the professionals asked) and billing
  acts stay;
- never touches a mail still in quarantine unless ``quarantined_months`` is set: past that, its
  raw bytes are emptied and it leaves quarantine (``ignored``, with the reason). Otherwise it is
  kept, and counted (``quarantined_kept``) so a coordinator sees it;
- deletes login attempts older than ``login_attempt_days`` and sessions idle past
  ``web.session_idle_minutes``.

Emptied raw bytes are ``b""`` (a mail always has its row of bytes, ``inbound_raw`` or
``outbound_raw``, so empty means purged). Each step runs
in batches of ``retention.batch`` rows, one short transaction each, so that on SQLite the
writer lock is never held long; a pass stops after ``MAX_BATCHES`` and the next timers pass goes
on. What is due is decided by pure functions (``cutoffs``, ``due``); the statements follow.
Each pass is recorded in ``retention_run`` with the policy it applied and what it purged: the
dashboard shows the last one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, Engine, delete, func, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from gateway import failpoints
from gateway.config import Config, RetentionConfig
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    InboundRaw,
    InboundStatus,
    OutboundMessage,
    OutboundRaw,
    OutboundStatus,
    RetentionRun,
    RuleResultRow,
    utcnow,
)
from gateway.storage.web_models import AuditEntry, CaseNote, LoginAttempt, WebSession

__all__ = [
    "MAX_BATCHES",
    "TEST_CLOCK",
    "Cutoffs",
    "Retention",
    "RetentionReport",
    "cutoffs",
    "due",
    "last_run",
    "months_before",
]

log = structlog.get_logger("aiguilleur.retention")

MAX_BATCHES = 50  # per pass; the rest waits for the next timers pass
RUNS_KEPT = timedelta(days=400)  # retention_run rows (no personal data) older than this go
# Test clock (gateway/failpoints.py): AIGUILLEUR_FAILPOINTS="retention_clock=+400d" moves the
# policy's "now" only; the passes are still recorded at the real time.
TEST_CLOCK = "retention_clock"
HANDLED = (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.DUPLICATE)


def months_before(now: datetime, months: int) -> datetime:
    """``now`` moved back by calendar months; the day is clamped (31 March - 1 = 28/29 Feb)."""
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    for day in (now.day, 30, 29, 28):
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # every month has 28 days


@dataclass(frozen=True)
class Cutoffs:
    """What was created (or closed, or last seen) before each moment is due; None: kept."""

    raw: datetime | None
    parsed: datetime | None
    closed_case: datetime | None
    quarantined: datetime | None
    login_attempt: datetime | None
    session: datetime


def cutoffs(policy: RetentionConfig, now: datetime, session_idle_minutes: int) -> Cutoffs:
    def months(n: int) -> datetime | None:
        return months_before(now, n) if n > 0 else None

    return Cutoffs(
        raw=months(policy.raw_months),
        parsed=months(policy.parsed_months),
        closed_case=months(policy.closed_case_months),
        quarantined=months(policy.quarantined_months),
        login_attempt=(
            now - timedelta(days=policy.login_attempt_days) if policy.login_attempt_days else None
        ),
        session=now - timedelta(minutes=session_idle_minutes),
    )


def due(last: RetentionRun | None, now: datetime, interval_minutes: float) -> bool:
    """A pass is due when none ran, the last one stopped at its budget, or it is old enough."""
    if last is None or not last.complete:
        return True
    return last.started_at <= now - timedelta(minutes=interval_minutes)


@dataclass
class RetentionReport:
    raw_purged: int = 0  # inbound mails whose raw bytes were emptied
    replies_purged: int = 0  # sent replies whose raw bytes were emptied
    parsed_purged: int = 0
    cases_reduced: int = 0
    quarantined_purged: int = 0
    login_attempts_deleted: int = 0
    sessions_deleted: int = 0
    quarantined_kept: int = 0  # in quarantine past raw_months, kept: not a purge
    complete: bool = True
    batches: int = field(default=0, repr=False)

    @property
    def total(self) -> int:
        return (
            self.raw_purged
            + self.replies_purged
            + self.parsed_purged
            + self.cases_reduced
            + self.quarantined_purged
            + self.login_attempts_deleted
            + self.sessions_deleted
        )

    def counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("complete")
        data.pop("batches")
        return {k: int(v) for k, v in data.items()}


def last_run(session: Session) -> RetentionRun | None:
    return session.exec(
        select(RetentionRun).order_by(col(RetentionRun.started_at).desc()).limit(1)
    ).first()


def _empty(session: Session, raws: type[InboundRaw | OutboundRaw], ids: Sequence[int]) -> int:
    """Empty the bytes of the mails ``ids``, in ``raws``; returns how many."""
    if ids:
        key = col(InboundRaw.inbound_id) if raws is InboundRaw else col(OutboundRaw.outbound_id)
        session.execute(update(raws).where(key.in_(ids)).values(raw=b""))
    return len(ids)


def _case_not_open() -> ColumnElement[bool]:
    """The row's case is closed, or it has none (ignored mails, replies to nobody's case)."""
    return or_(col(Case.id).is_(None), col(Case.closed_at).is_not(None))


class Retention:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_batches: int = MAX_BATCHES,
    ) -> None:
        self._engine = engine
        self._policy = config.retention
        self._idle_minutes = config.web.session_idle_minutes
        self._clock = clock
        self._max_batches = max_batches

    def policy_now(self, now: datetime) -> datetime:
        shift = failpoints.shift(TEST_CLOCK)
        if shift:
            log.warning("retention_test_clock", shift_days=shift.total_seconds() / 86400)
        return now + shift

    def run_if_due(self) -> RetentionReport | None:
        """The daemon's entry point: one pass when one is due, else None."""
        now = self._clock()
        with repo.session_for(repo.reader(self._engine)) as session:
            last = last_run(session)
        if not due(last, self.policy_now(now), self._policy.interval_minutes):
            return None
        return self.run(now)

    def run(self, now: datetime | None = None) -> RetentionReport:
        """One pass; ``now`` is the real time of the pass (the policy's may be shifted)."""
        started = now or self._clock()
        limits = cutoffs(self._policy, self.policy_now(started), self._idle_minutes)
        run_id = self._open(started)
        report = RetentionReport()
        steps: list[tuple[str, Callable[[Session, Cutoffs, datetime], int]]] = [
            ("quarantined_purged", self._quarantined),
            ("raw_purged", self._raw),
            ("replies_purged", self._replies),
            ("parsed_purged", self._parsed),
            ("cases_reduced", self._cases),
            ("login_attempts_deleted", self._login_attempts),
            ("sessions_deleted", self._sessions),
        ]
        for name, step in steps:
            while True:
                if report.batches >= self._max_batches:
                    report.complete = False
                    break
                with repo.session_for(self._engine) as session:
                    done = step(session, limits, started)
                    session.commit()
                if done == 0:
                    break
                report.batches += 1  # the budget counts batches that changed rows
                setattr(report, name, getattr(report, name) + done)
            if not report.complete:
                break
        report.quarantined_kept = self._count_quarantined_kept(limits)
        self._close(run_id, started, report)
        if report.total or report.quarantined_kept:
            log.info("retention_pass", complete=report.complete, **report.counts())
        return report

    # --- the record -------------------------------------------------------------------------

    def _open(self, started: datetime) -> int:
        policy = self._policy.model_dump(exclude={"batch", "interval_minutes"})
        with repo.session_for(self._engine) as session:
            row = RetentionRun(started_at=started, policy_json=json.dumps(policy))
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def _close(self, run_id: int, started: datetime, report: RetentionReport) -> None:
        with repo.session_for(self._engine) as session:
            session.execute(
                update(RetentionRun)
                .where(col(RetentionRun.id) == run_id)
                .values(
                    finished_at=self._clock(),
                    complete=report.complete,
                    counts_json=json.dumps(report.counts()),
                )
            )
            session.execute(
                delete(RetentionRun).where(col(RetentionRun.started_at) < started - RUNS_KEPT)
            )
            session.commit()

    # --- the steps: each purges one batch and returns how many rows it changed ---------------

    def _ids(
        self, session: Session, query: SelectOfScalar[int] | SelectOfScalar[None], batch: int = 0
    ) -> list[int]:
        rows = session.exec(query.limit(batch or self._policy.batch)).all()
        return [int(i) for i in rows if i is not None]

    def _quarantined(self, session: Session, limits: Cutoffs, now: datetime) -> int:
        if limits.quarantined is None:
            return 0
        where = (
            col(InboundMessage.status) == InboundStatus.QUARANTINED,
            col(InboundMessage.received_at) < limits.quarantined,
        )
        ids = self._ids(session, select(InboundMessage.id).where(*where))
        if not ids:
            return 0
        months = self._policy.quarantined_months
        changed = session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id).in_(ids), *where)  # released meanwhile: kept
            .values(
                parsed_json=None,
                status=InboundStatus.IGNORED,
                error=f"retention: raw bytes purged after {months} months in quarantine",
                lease_until=None,
                lease_owner=None,
                updated_at=now,
            )
            .returning(col(InboundMessage.id))
        )
        return _empty(session, InboundRaw, changed.scalars().all())

    def _raw(self, session: Session, limits: Cutoffs, now: datetime) -> int:
        if limits.raw is None:
            return 0
        ids = self._ids(
            session,
            select(InboundMessage.id)
            .outerjoin(Case, col(Case.id) == col(InboundMessage.case_id))
            .where(
                col(InboundMessage.status).in_(HANDLED),
                col(InboundMessage.received_at) < limits.raw,
                func.length(InboundRaw.raw) > 0,
                _case_not_open(),
            )
            .join(InboundRaw, col(InboundRaw.inbound_id) == col(InboundMessage.id)),
        )
        if not ids:
            return 0
        changed = session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id).in_(ids), col(InboundMessage.status).in_(HANDLED))
            .values(updated_at=now)
            .returning(col(InboundMessage.id))
        )
        return _empty(session, InboundRaw, changed.scalars().all())

    def _replies(self, session: Session, limits: Cutoffs, _now: datetime) -> int:
        if limits.raw is None:
            return 0
        # Sent only: a failed or bounced reply may still be sent again from the case page.
        ids = self._ids(
            session,
            select(OutboundMessage.id)
            .outerjoin(Case, col(Case.id) == col(OutboundMessage.case_id))
            .where(
                col(OutboundMessage.status) == OutboundStatus.SENT,
                col(OutboundMessage.created_at) < limits.raw,
                func.length(OutboundRaw.raw) > 0,
                _case_not_open(),
            )
            .join(OutboundRaw, col(OutboundRaw.outbound_id) == col(OutboundMessage.id)),
        )
        if not ids:
            return 0
        still_sent = session.exec(
            select(OutboundMessage.id).where(
                col(OutboundMessage.id).in_(ids),
                col(OutboundMessage.status) == OutboundStatus.SENT,
            )
        ).all()
        return _empty(session, OutboundRaw, [i for i in still_sent if i])

    def _parsed(self, session: Session, limits: Cutoffs, now: datetime) -> int:
        if limits.parsed is None:
            return 0
        where = (
            col(InboundMessage.status).in_(HANDLED),
            col(InboundMessage.received_at) < limits.parsed,
            col(InboundMessage.parsed_json).is_not(None),
        )
        ids = self._ids(session, select(InboundMessage.id).where(*where))
        if not ids:
            return 0
        result = session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id).in_(ids), *where)
            .values(parsed_json=None, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _cases(self, session: Session, limits: Cutoffs, now: datetime) -> int:
        if limits.closed_case is None:
            return 0
        where = (
            col(Case.closed_at).is_not(None),
            col(Case.closed_at) < limits.closed_case,
            col(Case.updated_at) < limits.closed_case,
            col(Case.reduced_at).is_(None),
        )
        # A case touches a dozen rows in other tables: a tenth of the batch at a time.
        ids = self._ids(session, select(Case.id).where(*where), max(1, self._policy.batch // 10))
        if not ids:
            return 0
        result = session.execute(
            update(Case)
            .where(col(Case.id).in_(ids), *where)
            .values(
                sender=None,
                request_json=None,
                patient_family_name=None,
                patient_ins=None,
                reduced_at=now,
            )
        )
        in_cases = (InboundMessage.case_id, OutboundMessage.case_id)
        inbound = session.execute(  # a mail of the case in quarantine or in work stays whole
            update(InboundMessage)
            .where(col(in_cases[0]).in_(ids), col(InboundMessage.status).in_(HANDLED))
            .values(parsed_json=None, error=None, updated_at=now)
            .returning(col(InboundMessage.id))
        )
        _empty(session, InboundRaw, inbound.scalars().all())
        outbound = session.execute(
            update(OutboundMessage)
            .where(
                col(in_cases[1]).in_(ids),
                col(OutboundMessage.status) != OutboundStatus.PENDING,
            )
            .values(subject="", last_error=None, dsn_diagnostic=None)
            .returning(col(OutboundMessage.id))
        )
        _empty(session, OutboundRaw, outbound.scalars().all())
        session.execute(
            update(CaseEvent).where(col(CaseEvent.case_id).in_(ids)).values(detail_json="{}")
        )
        session.execute(
            update(RuleResultRow)
            .where(col(RuleResultRow.case_id).in_(ids))
            .values(reason_fr="", evidence_json="{}")
        )
        session.execute(update(CaseNote).where(col(CaseNote.case_id).in_(ids)).values(text=""))
        session.execute(
            update(AuditEntry).where(col(AuditEntry.case_id).in_(ids)).values(detail_json="{}")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _login_attempts(self, session: Session, limits: Cutoffs, _now: datetime) -> int:
        if limits.login_attempt is None:
            return 0
        where = col(LoginAttempt.at) < limits.login_attempt
        ids = self._ids(session, select(LoginAttempt.id).where(where))
        if not ids:
            return 0
        result = session.execute(delete(LoginAttempt).where(col(LoginAttempt.id).in_(ids), where))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _sessions(self, session: Session, limits: Cutoffs, _now: datetime) -> int:
        where = col(WebSession.last_seen_at) < limits.session
        rows = session.exec(select(WebSession.id).where(where).limit(self._policy.batch)).all()
        if not rows:
            return 0
        result = session.execute(
            delete(WebSession).where(col(WebSession.id).in_(list(rows)), where)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _count_quarantined_kept(self, limits: Cutoffs) -> int:
        if limits.raw is None:
            return 0
        with repo.session_for(repo.reader(self._engine)) as session:
            return int(
                session.exec(
                    select(func.count()).where(
                        col(InboundMessage.status) == InboundStatus.QUARANTINED,
                        col(InboundMessage.received_at) < limits.raw,
                    )
                ).one()
            )
