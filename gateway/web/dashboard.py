"""The dashboard's figures: today's and this week's cases, and what needs a person."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, func, select

from gateway.cases.retention import last_run
from gateway.storage.models import (
    Case,
    CaseStatus,
    InboundMessage,
    InboundStatus,
    Offer,
    OfferStatus,
    OutboundMessage,
    OutboundStatus,
)
from gateway.web.context import PARIS
from gateway.wording import say

__all__ = ["Dashboard", "RetentionView", "load_dashboard"]


@dataclass(frozen=True)
class RetentionView:
    """The retention policy the daemon last applied, in French, and what its last pass did."""

    policy: list[str]  # e.g. "messages bruts 12 mois"
    last_pass_at: datetime
    purged: int  # rows purged or reduced by that pass
    complete: bool
    quarantined_kept: int  # in quarantine past the raw messages' term, kept until released


def _term(value: object, unit: str) -> str:
    if isinstance(value, int) and value > 0:
        return say(f"web.retention.{unit}", count=value)
    return say("web.retention.unlimited")


def _retention(db: Session) -> RetentionView | None:
    run = last_run(db)
    if run is None:
        return None
    policy = json.loads(run.policy_json or "{}")
    counts = json.loads(run.counts_json or "{}")
    quarantined = policy.get("quarantined_months", 0)
    lines = [
        say("web.retention.raw", term=_term(policy.get("raw_months"), "months")),
        say("web.retention.parsed", term=_term(policy.get("parsed_months"), "months")),
        say("web.retention.closed", term=_term(policy.get("closed_case_months"), "months")),
        say(
            "web.retention.quarantine",
            term=_term(quarantined, "months")
            if quarantined
            else say("web.retention.until_released"),
        ),
        say("web.retention.logins", term=_term(policy.get("login_attempt_days"), "days")),
    ]
    kept = int(counts.get("quarantined_kept", 0))
    purged = sum(int(v) for k, v in counts.items() if k != "quarantined_kept")
    return RetentionView(lines, run.started_at, purged, run.complete, kept)


@dataclass(frozen=True)
class Dashboard:
    today: list[tuple[str, str, int]]  # programme, status, count
    week: list[tuple[str, str, int]]
    waiting: list[Case]
    waiting_count: int
    overdue: list[tuple[Offer, str]]  # offer, case reference
    quarantined: int
    failed_replies: int
    retention: RetentionView | None = None  # None until the daemon's first purge pass


def _counts(db: Session, since: datetime) -> list[tuple[str, str, int]]:
    # Counted here, not with GROUP BY: SQLite would then walk the (programme, status) index
    # over every case instead of the opened_at range, which is a few days of cases.
    rows = db.exec(select(Case.programme, Case.status).where(col(Case.opened_at) >= since)).all()
    counts = Counter((p, s) for p, s in rows)
    return [(p, s, n) for (p, s), n in sorted(counts.items())]


def load_dashboard(db: Session, now: datetime) -> Dashboard:
    local = now.astimezone(PARIS)
    today = datetime.combine(local.date(), time(0), PARIS)
    week = today - timedelta(days=local.weekday())
    waiting_where = col(Case.status) == CaseStatus.WAITING_COORDINATOR
    overdue = db.exec(
        select(Offer, Case.reference)
        .join(Case, col(Case.id) == col(Offer.case_id))
        .where(
            Offer.status == OfferStatus.PENDING,
            col(Offer.deadline_at).is_not(None),
            col(Offer.deadline_at) < now,
        )
        .order_by(col(Offer.deadline_at))
        .limit(20)
    ).all()
    return Dashboard(
        today=_counts(db, today),
        week=_counts(db, week),
        waiting=list(
            db.exec(
                select(Case).where(waiting_where).order_by(col(Case.opened_at).desc()).limit(10)
            ).all()
        ),
        waiting_count=int(db.exec(select(func.count()).where(waiting_where)).one()),
        overdue=[(o, ref) for o, ref in overdue],
        quarantined=int(
            db.exec(
                select(func.count()).where(InboundMessage.status == InboundStatus.QUARANTINED)
            ).one()
        ),
        failed_replies=int(
            db.exec(
                select(func.count()).where(
                    col(OutboundMessage.status).in_((OutboundStatus.FAILED, OutboundStatus.BOUNCED))
                )
            ).one()
        ),
        retention=_retention(db),
    )
