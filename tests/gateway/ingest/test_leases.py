"""Mailbox leases on a real PostgreSQL: spread, failover, loss, and one name per replica."""

from __future__ import annotations

import subprocess
import time

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, func, select

from gateway.ingest.leases import InstanceNameInUseError, MailboxLeases
from gateway.storage.lease_models import MailboxLease, Replica

BOXES = [f"box{i}" for i in range(6)]
TTL = 1.5


def replica(engine: Engine, name: str) -> MailboxLeases:
    return MailboxLeases(engine, name, BOXES, lease_seconds=TTL)


def test_one_replica_reads_every_mailbox(pg_engine: Engine) -> None:
    a = replica(pg_engine, "a")
    first = a.round()
    assert first.held == frozenset(BOXES) and first.live_replicas == 1
    assert a.round().held == frozenset(BOXES)  # renewed, not re-acquired


def test_a_second_replica_gets_its_share_and_no_mailbox_is_read_twice(pg_engine: Engine) -> None:
    a, b = replica(pg_engine, "a"), replica(pg_engine, "b")
    a.round()
    assert b.round().held == frozenset()  # everything is held, and not expired
    given = a.round()
    assert len(given.held) == 3 and len(given.surplus) == 3
    a.release(sorted(given.surplus))  # once their readers stopped
    taken = b.round()
    assert taken.held == given.surplus
    assert a.round().held.isdisjoint(b.round().held)
    assert a.held | b.held == frozenset(BOXES)


def test_a_dead_replicas_mailboxes_are_taken_over_once_its_leases_expire(
    pg_engine: Engine,
) -> None:
    a, b = replica(pg_engine, "a"), replica(pg_engine, "b")
    a.round()
    b.round()
    a.release(sorted(a.round().surplus))
    b.round()
    died = time.monotonic()  # "a" never renews again
    while b.round().held != frozenset(BOXES):
        assert time.monotonic() - died < TTL + 3, "no takeover"
        time.sleep(0.2)
    assert time.monotonic() - died >= TTL * 0.5  # not before its leases could expire


def test_a_lease_taken_by_another_is_reported_lost(pg_engine: Engine) -> None:
    a, b = replica(pg_engine, "a"), replica(pg_engine, "b")
    a.round()
    with Session(pg_engine) as session:  # a long pause: "a" missed its renewals
        session.execute(
            update(MailboxLease)
            .where(MailboxLease.mailbox == "box0")  # type: ignore[arg-type]
            .values(expires_at=func.now())
        )
        session.commit()
    assert "box0" in b.round().held
    after = a.round()
    assert "box0" in after.lost and "box0" not in after.held


def _run_by(engine: Engine, instance: str, pid: int) -> None:
    """Say the replica row belongs to another process (this test has only one)."""
    with Session(engine) as session:
        session.execute(
            update(Replica).where(Replica.instance == instance).values(pid=pid)  # type: ignore[arg-type]
        )
        session.commit()


def test_a_live_instance_name_cannot_be_used_twice(pg_engine: Engine) -> None:
    a = replica(pg_engine, "same")
    a.round()
    _run_by(pg_engine, "same", 1)  # a live process (init) on this host
    with pytest.raises(InstanceNameInUseError, match="in use by a live replica"):
        replica(pg_engine, "same").round()
    a.leave()
    again = replica(pg_engine, "same")
    assert again.round().held == frozenset(BOXES)


def test_a_restart_after_a_crash_takes_its_own_leases_back_at_once(pg_engine: Engine) -> None:
    crashed = replica(pg_engine, "same")
    crashed.round()
    gone = subprocess.Popen(["true"])
    gone.wait()
    _run_by(pg_engine, "same", gone.pid)  # its process is dead; its leases are still valid
    restarted = replica(pg_engine, "same")
    first = restarted.round()
    assert first.held == frozenset(BOXES) and first.lost == frozenset()
    assert crashed.round().lost == frozenset(BOXES)  # had it lived, it would stop reading


def test_leaving_gives_every_lease_back_at_once(pg_engine: Engine) -> None:
    a, b = replica(pg_engine, "a"), replica(pg_engine, "b")
    a.round()
    a.leave()
    assert b.round().held == frozenset(BOXES)  # no wait for expiry, and "a" is not live


def test_a_dead_replicas_claims_are_freed_at_once_and_a_live_ones_kept(
    pg_engine: Engine,
) -> None:
    from datetime import timedelta

    from gateway.storage import repo
    from gateway.storage.models import InboundMessage, OutboundMessage, utcnow
    from gateway.storage.repo import IncomingRaw
    from tests.support.outbound import outbound_ack

    a, b = replica(pg_engine, "a"), replica(pg_engine, "b")
    a.round()
    b.round()
    with Session(pg_engine) as s:
        repo.store_inbound_batch(
            s, [IncomingRaw("box0", f"mail {i}".encode(), source_key=f"k{i}") for i in range(4)]
        )
        for i in range(2):
            repo.queue_outbound(s, outbound_ack(f"c{i}", "dr@x.test", message_id=f"<m{i}@x>"))
        s.commit()
        hour = timedelta(hours=1)  # claims that would otherwise block the rows for an hour
        repo.claim_inbound(s, owner="a", limit=2, lease=hour)
        repo.claim_inbound(s, owner="b", limit=2, lease=hour)
        repo.claim_outbound(s, owner="a", limit=1, lease=hour)
        s.commit()
    b.round()  # "a" is alive: nothing of its is touched
    with Session(pg_engine) as s:
        claimed = [r for r in s.exec(select(InboundMessage)) if r.lease_until is not None]
        assert len(claimed) == 4
    with Session(pg_engine) as s:  # "a" stops heartbeating (SIGKILL)
        s.execute(
            update(Replica)
            .where(Replica.instance == "a")  # type: ignore[arg-type]
            .values(heartbeat_at=func.now() - timedelta(seconds=TTL * 2))
        )
        s.commit()
    b.round()
    with Session(pg_engine) as s:
        inbound = {r.id: (r.lease_owner, r.lease_until) for r in s.exec(select(InboundMessage))}
        freed = [owner for owner, until in inbound.values() if until is None]
        kept = [owner for owner, until in inbound.values() if until is not None]
        assert freed == ["a", "a"] and kept == ["b", "b"]
        (reply, _) = sorted(s.exec(select(OutboundMessage)), key=lambda r: r.id or 0)
        assert reply.lease_until is None
        assert s.get(Replica, "a") is None and s.get(Replica, "b") is not None
        # Another replica can take them now, hours before their claims would have run out.
        assert len(repo.claim_inbound(s, owner="b", limit=10, lease=hour, now=utcnow())) == 2
