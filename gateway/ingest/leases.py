"""Which mailboxes this replica reads, when several share one PostgreSQL database.

Each round (every ``renew_seconds``), in one transaction and on the database's clock:
1. the replica heartbeats its row;
2. it renews the leases it holds; a lease it held that is not renewed was lost (it
   expired and another replica took it): that mailbox stops being read at once;
3. its fair share is ceil(mailboxes / live replicas); above it, it gives mailboxes back
   (after their readers stop), below it, it takes free or expired leases, in an order
   of its own (rendezvous hashing) so that replicas starting together spread out.

A replica that dies stops renewing: its leases expire ``lease_seconds`` later and the next
round of a survivor takes them, so a mailbox is read again within lease + renew seconds.
A replica that cannot reach the database stops reading once its leases may have expired
(``valid_until``), before anyone else may hold them.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Engine, delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from gateway.errors import GatewayError
from gateway.storage.lease_models import MailboxLease, Replica
from gateway.storage.models import InboundMessage, OutboundMessage

log = structlog.get_logger("aiguilleur.ingest.leases")

__all__ = ["InstanceNameInUseError", "LeaseRound", "MailboxLeases"]


class InstanceNameInUseError(GatewayError):
    """A live replica already uses this instance name."""


@dataclass(frozen=True)
class LeaseRound:
    held: frozenset[str]  # read these mailboxes now
    lost: frozenset[str]  # held before, taken since: stop their readers at once
    surplus: frozenset[str]  # above the fair share: stop their readers, then release()
    live_replicas: int


def _predecessor(other: Replica) -> bool:
    """The row is this instance's previous process on this host, which no longer runs."""
    if other.host != socket.gethostname()[:255]:
        return False
    if other.pid == os.getpid():
        return True  # a restarted container: its new process got the same pid
    try:
        os.kill(other.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _preference(instance: str, mailbox: str) -> bytes:
    return hashlib.sha256(f"{instance}\0{mailbox}".encode()).digest()


@dataclass
class MailboxLeases:
    engine: Engine
    instance: str
    mailboxes: Sequence[str]
    lease_seconds: float = 15.0
    clock: Callable[[], float] = time.monotonic
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    valid_until: float = 0.0  # clock() past which no lease of ours may be trusted
    _held: frozenset[str] = frozenset()
    _started: bool = False

    @property
    def held(self) -> frozenset[str]:
        return self._held

    def round(self) -> LeaseRound:
        """One heartbeat-renew-balance round; raises on a database error (held unchanged)."""
        began = self.clock()
        ttl = timedelta(seconds=self.lease_seconds)
        with Session(self.engine) as session:
            live = self._heartbeat(session, ttl)
            self._reap(session, ttl)
            renewed = self._renew(session, ttl)
            share = math.ceil(len(self.mailboxes) / max(live, 1))
            held = set(renewed)
            surplus = frozenset(sorted(held, key=lambda m: _preference(self.instance, m))[share:])
            held -= surplus
            if len(held) < share:
                held |= self._acquire(session, ttl, share - len(held), exclude=renewed)
            session.commit()
        lost = self._held - renewed
        self._held = frozenset(held)
        # Measured from before the round: the database may have renewed at any moment of it.
        self.valid_until = began + self.lease_seconds * 0.8
        return LeaseRound(self._held, lost, surplus, live)

    def _heartbeat(self, session: Session, ttl: timedelta) -> int:
        fresh = col(Replica.heartbeat_at) > func.now() - ttl
        if not self._started:
            other = session.exec(
                select(Replica).where(col(Replica.instance) == self.instance, fresh)
            ).first()
            if other is not None and other.token != self.token:
                if _predecessor(other):
                    self._adopt(session, other.token)
                    return self._beat(session, fresh)
                raise InstanceNameInUseError(
                    f"instance name {self.instance!r} is in use by a live replica "
                    f"(host {other.host}, pid {other.pid}); give each replica its own "
                    "`instance` (or AIGUILLEUR__INSTANCE)"
                )
        return self._beat(session, fresh)

    def _reap(self, session: Session, ttl: timedelta) -> None:
        """A replica silent for longer than a lease is dead: the messages and replies it had
        claimed are freed now, not when each claim runs out (minutes), and its row goes."""
        stale = col(Replica.heartbeat_at) <= func.now() - ttl
        dead = list(session.exec(select(Replica.instance).where(stale)).all())
        if not dead:
            return
        for model in (InboundMessage, OutboundMessage):
            session.execute(
                update(model)
                .where(col(model.lease_owner).in_(dead), col(model.lease_until).is_not(None))
                .values(lease_until=None)
            )
        session.execute(delete(Replica).where(col(Replica.instance).in_(dead), stale))
        log.warning("replicas_reaped", replicas=dead)

    def _adopt(self, session: Session, token: str) -> None:
        """Our own crashed predecessor's leases: nobody else may read those mailboxes, and
        waiting for them to expire would leave them unread after a quick restart."""
        rows = session.execute(
            update(MailboxLease)
            .where(col(MailboxLease.holder) == self.instance, col(MailboxLease.token) == token)
            .values(token=self.token)
            .returning(col(MailboxLease.mailbox))
        ).all()
        self._held = frozenset(str(row[0]) for row in rows)

    def _beat(self, session: Session, fresh: ColumnElement[bool]) -> int:
        host, pid = socket.gethostname()[:255], os.getpid()
        values: dict[str, Any] = {
            "instance": self.instance,
            "token": self.token,
            "host": host,
            "pid": pid,
            "started_at": func.now(),
            "heartbeat_at": func.now(),
        }
        # A restart under the same name takes the row over; a running one only heartbeats.
        keep = ("token", "heartbeat_at") if self._started else tuple(values)[1:]
        update_on_conflict = {key: values[key] for key in keep}
        session.execute(
            insert(Replica)
            .values(**values)
            .on_conflict_do_update(index_elements=["instance"], set_=update_on_conflict)
        )
        self._started = True
        live = session.exec(select(func.count()).select_from(Replica).where(fresh)).one()
        return int(live)

    def _renew(self, session: Session, ttl: timedelta) -> frozenset[str]:
        if not self._held:
            return frozenset()
        rows = session.execute(
            update(MailboxLease)
            .where(
                col(MailboxLease.mailbox).in_(sorted(self._held)),
                col(MailboxLease.holder) == self.instance,
                col(MailboxLease.token) == self.token,
                col(MailboxLease.expires_at) > func.now(),
            )
            .values(renewed_at=func.now(), expires_at=func.now() + ttl)
            .returning(col(MailboxLease.mailbox))
        ).all()
        return frozenset(str(row[0]) for row in rows)

    def _acquire(
        self, session: Session, ttl: timedelta, wanted: int, exclude: frozenset[str]
    ) -> set[str]:
        taken: set[str] = set()
        # Only leases that look free are tried, and in one global order: an upsert locks
        # the row even when its WHERE refuses it, and two replicas locking rows in their own
        # preference orders (one taking, one giving back) would deadlock.
        busy = set(
            session.exec(
                select(MailboxLease.mailbox).where(
                    col(MailboxLease.mailbox).in_(list(self.mailboxes)),
                    col(MailboxLease.holder).is_not(None),
                    col(MailboxLease.expires_at) > func.now(),
                )
            ).all()
        )
        preferred = sorted(
            (m for m in self.mailboxes if m not in exclude and m not in busy),
            key=lambda m: _preference(self.instance, m),
        )
        for mailbox in sorted(preferred[:wanted]):
            statement = (
                insert(MailboxLease)
                .values(
                    mailbox=mailbox,
                    holder=self.instance,
                    token=self.token,
                    acquired_at=func.now(),
                    renewed_at=func.now(),
                    expires_at=func.now() + ttl,
                )
                .on_conflict_do_update(
                    index_elements=["mailbox"],
                    set_={
                        "holder": self.instance,
                        "token": self.token,
                        "acquired_at": func.now(),
                        "renewed_at": func.now(),
                        "expires_at": func.now() + ttl,
                    },
                    # Only a lease nobody holds any more: expired, or given back.
                    where=(col(MailboxLease.expires_at) <= func.now())
                    | col(MailboxLease.holder).is_(None),
                )
                .returning(col(MailboxLease.mailbox))
            )
            if session.execute(statement).first() is not None:
                taken.add(mailbox)
        return taken

    def release(self, mailboxes: Sequence[str]) -> None:
        """Give leases back once their readers have stopped: another replica may take them."""
        if not mailboxes:
            return
        with Session(self.engine) as session:
            session.execute(
                update(MailboxLease)
                .where(
                    col(MailboxLease.mailbox).in_(sorted(mailboxes)),
                    col(MailboxLease.holder) == self.instance,
                    col(MailboxLease.token) == self.token,
                )
                .values(holder=None, token=None, expires_at=func.now())
            )
            session.commit()
        self._held = self._held - frozenset(mailboxes)

    def leave(self) -> None:
        """On a clean stop: every lease back, and no heartbeat left to count as live."""
        self.release(sorted(self._held))
        with Session(self.engine) as session:
            session.execute(
                delete(Replica).where(
                    col(Replica.instance) == self.instance, col(Replica.token) == self.token
                )
            )
            session.commit()
