"""What a chaos run left behind, counted: from the delivered Maildirs and the database.

Delivered mails are read by their headers only (Message-ID, In-Reply-To) and matched to the
outbound rows by Message-ID, which gives their kind, recipient and request.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import col

from bench.e2e_workload import Delivered, MaildirWatcher
from gateway.storage.db import make_engine
from gateway.storage.models import (
    Case,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)

__all__ = ["DbState", "Progress", "db_progress", "read_db", "tally"]

FINAL_INBOUND = frozenset(
    {
        InboundStatus.PROCESSED,
        InboundStatus.IGNORED,
        InboundStatus.DUPLICATE,
        InboundStatus.QUARANTINED,
    }
)
SAMPLES = 10  # request ids kept per finding, to look a case up; never a body


@dataclass(frozen=True)
class OutRow:
    message_id: str
    kind: str
    recipient: str
    status: str
    request: str  # the Message-ID of the request it answers or forwards


@dataclass(frozen=True)
class DbState:
    inbound_by_status: dict[str, int]
    inbound_per_request: dict[str, int]  # rows other than "duplicate" per Message-ID
    cases_per_request: dict[str, int]
    outbound: dict[str, OutRow]  # by Message-ID
    outbound_by_status: dict[str, int]


@dataclass(frozen=True)
class Progress:
    inbound_open: int
    outbound_pending: int


def _engine(url: str) -> Engine:
    return make_engine(url)


def db_progress(url: str) -> Progress:
    """Cheap counts for the settle loop, while the daemon runs."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            open_ = conn.execute(
                select(func.count())
                .select_from(InboundMessage)
                .where(col(InboundMessage.status).not_in(list(FINAL_INBOUND)))
            ).scalar_one()
            pending = conn.execute(
                select(func.count())
                .select_from(OutboundMessage)
                .where(col(OutboundMessage.status) == OutboundStatus.PENDING)
            ).scalar_one()
    finally:
        engine.dispose()
    return Progress(int(open_), int(pending))


def read_db(url: str) -> DbState:
    """The columns the tally needs; raw bytes and parsed fields are never loaded."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            inbound = conn.execute(
                select(
                    col(InboundMessage.id),
                    col(InboundMessage.message_id),
                    col(InboundMessage.status),
                )
            ).all()
            cases = conn.execute(select(col(Case.id), col(Case.root_message_id))).all()
            outbound = conn.execute(
                select(
                    col(OutboundMessage.message_id),
                    col(OutboundMessage.kind),
                    col(OutboundMessage.recipient),
                    col(OutboundMessage.status),
                    col(OutboundMessage.inbound_id),
                    col(OutboundMessage.case_id),
                )
            ).all()
    finally:
        engine.dispose()
    request_of_inbound = {row.id: row.message_id or "" for row in inbound}
    request_of_case = {row.id: row.root_message_id or "" for row in cases}
    rows: dict[str, OutRow] = {}
    for o in outbound:
        if o.inbound_id is not None:
            request = request_of_inbound.get(o.inbound_id, "")
        else:  # mail to a doctor: tied to the case, not to a message
            request = request_of_case.get(o.case_id, "") if o.case_id is not None else ""
        rows[o.message_id] = OutRow(o.message_id, o.kind, o.recipient.lower(), o.status, request)
    return DbState(
        inbound_by_status=dict(Counter(str(r.status) for r in inbound)),
        inbound_per_request=dict(
            Counter(
                r.message_id or "" for r in inbound if r.status != InboundStatus.DUPLICATE.value
            )
        ),
        cases_per_request=dict(Counter(r.root_message_id or "" for r in cases)),
        outbound=rows,
        outbound_by_status=dict(Counter(str(o.status) for o in outbound)),
    )


def _delivered(watchers: Sequence[MaildirWatcher]) -> list[Delivered]:
    return [item for w in watchers for items in w.replies.values() for item in items]


def _resent(copies: dict[str, list[float]], kill_times: Sequence[float]) -> tuple[list[int], int]:
    """Copies beyond the first of each Message-ID, each charged to the last kill before it
    arrived (the restarted daemon sent it again); those before any kill are unattributed."""
    per_kill = [0] * len(kill_times)
    unattributed = 0
    for times in copies.values():
        for at in sorted(times)[1:]:
            k = bisect.bisect_right(kill_times, at) - 1
            if k < 0:
                unattributed += 1
            else:
                per_kill[k] += 1
    return per_kill, unattributed


def tally(
    *,
    request_ids: Sequence[str],
    acks: MaildirWatcher,
    doctors: MaildirWatcher,
    db: DbState,
    kill_times: Sequence[float],
    connections: int,
    doctor_mails_expected: int,
    left_on_server: int,
) -> dict[str, Any]:
    wanted = set(request_ids)
    lost = [r for r in request_ids if not acks.replies.get(r)]

    # Every copy delivered, by Message-ID, and the (request, kind, recipient) it belongs to.
    copies: dict[str, list[float]] = {}
    unknown = 0
    groups: dict[tuple[str, str, str], set[str]] = {}
    for item in _delivered([acks, doctors]):
        copies.setdefault(item.message_id, []).append(item.at)
        row = db.outbound.get(item.message_id)
        if row is None:
            unknown += 1
            key = (item.in_reply_to, "unknown", "")
        else:
            key = (row.request or item.in_reply_to, row.kind, row.recipient)
        groups.setdefault(key, set()).add(item.message_id)
    distinct_by_kind: Counter[str] = Counter()
    distinct_samples: list[str] = []
    for (request, kind, _), ids in groups.items():
        if len(ids) > 1:
            distinct_by_kind[kind] += len(ids) - 1
            if len(distinct_samples) < SAMPLES:
                distinct_samples.append(request)

    per_kill, unattributed = _resent(copies, kill_times)
    resent_by_kind: Counter[str] = Counter()
    for message_id, times in copies.items():
        if len(times) > 1:
            row = db.outbound.get(message_id)
            resent_by_kind[row.kind if row else "unknown"] += len(times) - 1
    resent_total = sum(len(t) - 1 for t in copies.values())
    resent_max = max(per_kill, default=0)

    doctor_ids = {i.message_id for i in _delivered([doctors])}
    stuck_inbound = sum(
        n for status, n in db.inbound_by_status.items() if status not in FINAL_INBOUND
    )
    stuck_outbound = db.outbound_by_status.get(OutboundStatus.PENDING.value, 0)
    several_rows = [r for r, n in db.inbound_per_request.items() if r in wanted and n > 1]
    several_cases = [r for r, n in db.cases_per_request.items() if r in wanted and n > 1]
    return {
        "requests": len(request_ids),
        "acknowledged": len(request_ids) - len(lost),
        "lost": len(lost),
        "distinct_duplicates": sum(distinct_by_kind.values()),
        "distinct_duplicates_by_kind": dict(distinct_by_kind),
        "resent_same_id": resent_total,
        "resent_same_id_by_kind": dict(resent_by_kind),
        "resent_per_kill": per_kill,
        "resent_per_kill_max": resent_max,
        "resent_per_kill_mean": round(resent_total / len(kill_times), 2) if kill_times else 0.0,
        "resent_unattributed": unattributed,
        "smtp_connections": connections,
        # The target: one kill re-sends at most what was between 250 and commit on each
        # connection, so at most kills x connections in all.
        "resent_bound_per_kill": connections,
        "resent_bound_total": connections * len(kill_times),
        "within_bound": resent_max <= connections,
        "stuck": stuck_inbound + stuck_outbound,
        "stuck_inbound": stuck_inbound,
        "stuck_outbound_pending": stuck_outbound,
        "quarantined": db.inbound_by_status.get(InboundStatus.QUARANTINED.value, 0),
        "replies_failed": db.outbound_by_status.get(OutboundStatus.FAILED.value, 0),
        "left_on_server": left_on_server,
        "doctor_mails_expected": doctor_mails_expected,
        "doctor_mails_delivered": len(doctor_ids),
        "delivered_total": sum(len(t) for t in copies.values()),
        "delivered_not_in_db": unknown,
        "inbound_by_status": db.inbound_by_status,
        "outbound_by_status": db.outbound_by_status,
        "requests_stored_twice": len(several_rows),
        "requests_with_several_cases": len(several_cases),
        "samples": {
            "lost": lost[:SAMPLES],
            "distinct_duplicates": distinct_samples,
        },
    }
