"""The health summary: what /readyz answers and ``aiguilleur status`` prints.

Each check names what it looked at and why it failed, so an operator reading the JSON or the
table knows where to look without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from gateway.config import Config
from gateway.loops import LoopHealth
from gateway.storage.db import is_postgres
from gateway.storage.lease_models import MailboxLease
from gateway.storage.models import MailboxCursor, OutboundMessage, OutboundStatus, utcnow

__all__ = ["Check", "HealthReport", "MailboxState", "readiness", "readiness_in"]


@dataclass(frozen=True)
class Check:
    name: str  # "database", "mailbox:<name>", "outbox_backlog", "outbox_oldest", "loop:<name>"
    ok: bool
    detail: str


@dataclass(frozen=True)
class MailboxState:
    name: str
    programme: str
    connected: bool
    last_sync_at: datetime | None
    reconnects: int
    last_error: str | None
    # Several replicas (PostgreSQL): who reads it, since when, and until when unless renewed.
    holder: str | None = None
    held_for: float | None = None  # seconds
    expires_in: float | None = None  # seconds; negative: expired, nobody reads it


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[Check, ...]
    mailboxes: tuple[MailboxState, ...]
    outbox_pending: int
    outbox_oldest_age: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]


def _mailbox_check(state: MailboxState, max_age: float, now: datetime, *, leased: bool) -> Check:
    if leased and (state.holder is None or (state.expires_in or 0) <= 0):
        return Check(f"mailbox:{state.name}", False, "no replica holds its lease")
    if state.connected:
        return Check(f"mailbox:{state.name}", True, "connected")
    if state.last_sync_at is None:
        return Check(f"mailbox:{state.name}", False, "never synced")
    age = (now - state.last_sync_at).total_seconds()
    if age <= max_age:
        return Check(f"mailbox:{state.name}", True, f"synced {age:.0f}s ago")
    return Check(f"mailbox:{state.name}", False, f"not connected; last sync {age:.0f}s ago")


def _lease_state(lease: MailboxLease | None, now: datetime) -> dict[str, Any]:
    if lease is None or lease.holder is None:
        return {}
    return {
        "holder": lease.holder,
        "held_for": max(0.0, (now - lease.acquired_at).total_seconds()),
        "expires_in": (lease.expires_at - now).total_seconds(),
    }


def readiness(
    engine: Engine,
    config: Config,
    now: datetime | None = None,
    loops: LoopHealth | None = None,
) -> HealthReport:
    """Run every check; a database that does not answer fails the rest unchecked."""
    try:
        with Session(engine) as session:
            return readiness_in(session, config, now, loops)
    except Exception as exc:  # reported, not raised: /readyz must answer
        reason = f"unreachable: {type(exc).__name__}"
        checks = (Check("database", False, reason), *_loop_checks(loops, now or utcnow()))
        return HealthReport(checks, (), 0, 0.0)


def _loop_checks(loops: LoopHealth | None, now: datetime) -> list[Check]:
    """The daemon's loops that are failing now (only the daemon knows: not `aiguilleur status`)."""
    if loops is None:
        return []
    return [
        Check(
            f"loop:{name}",
            False,
            f"failing for {(now - f.since).total_seconds():.0f}s: {f.error_type} "
            f"({f.failures} in a row)",
        )
        for name, f in sorted(loops.failing().items())
    ]


def readiness_in(
    session: Session,
    config: Config,
    now: datetime | None = None,
    loops: LoopHealth | None = None,
) -> HealthReport:
    """The checks within the caller's session (on SQLite a second one would wait for it)."""
    now = now or utcnow()
    web = config.web
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    cursors = {c.mailbox: c for c in session.exec(select(MailboxCursor)).all()}
    pending, oldest = session.exec(
        select(func.count(), func.min(OutboundMessage.created_at)).where(
            OutboundMessage.status == OutboundStatus.PENDING
        )
    ).one()
    leased = is_postgres(session.get_bind())
    leases = {lease.mailbox: lease for lease in session.exec(select(MailboxLease)).all()}
    mailboxes = tuple(
        MailboxState(
            name=m.name,
            programme=m.programme,
            connected=bool(cursors[m.name].connected) if m.name in cursors else False,
            last_sync_at=cursors[m.name].last_sync_at if m.name in cursors else None,
            reconnects=cursors[m.name].reconnects if m.name in cursors else 0,
            last_error=cursors[m.name].last_error if m.name in cursors else None,
            **(_lease_state(leases.get(m.name), now) if leased else {}),
        )
        for m in config.mailboxes
    )
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    checks = [Check("database", True, "reachable")]
    checks += [
        _mailbox_check(m, web.ready_mailbox_max_age_seconds, now, leased=leased) for m in mailboxes
    ]
    checks.append(
        Check(
            "outbox_backlog",
            pending <= web.ready_outbox_max_pending,
            f"{pending} pending (max {web.ready_outbox_max_pending})",
        )
    )
    checks.append(
        Check(
            "outbox_oldest",
            age <= web.ready_outbox_max_age_seconds,
            f"oldest pending {age:.0f}s (max {web.ready_outbox_max_age_seconds:.0f}s)",
        )
    )
    checks += _loop_checks(loops, now)
    return HealthReport(tuple(checks), mailboxes, int(pending), age)
