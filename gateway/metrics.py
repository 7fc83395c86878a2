"""Prometheus metrics: an explicit ``Metrics`` object, and a collector that reads the database.

Most of what ops watch is already durable state (message and case statuses, the outbox, the
mailbox cursors), so it is counted from the database at scrape time: the figures are right
after a restart and agree across instances sharing one PostgreSQL. Only what leaves no row
behind (parse durations, SMTP failures) is measured in process, through ``Metrics``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from gateway.loops import LoopHealth
from gateway.replies.facts import ReplyKind
from gateway.storage.db import is_postgres
from gateway.storage.lease_models import MailboxLease
from gateway.storage.models import (
    Case,
    InboundMessage,
    MailboxCursor,
    Offer,
    OfferStatus,
    OutboundMessage,
    OutboundStatus,
    RuleResultRow,
    utcnow,
)

__all__ = ["DatabaseCollector", "Metrics", "ParseWorkers", "SmtpFailureKind"]

SmtpFailureKind = Literal["temporary", "permanent"]
PARSE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)


class DatabaseCollector(Collector):
    """Counts rows at scrape time. ``programmes`` maps a mailbox name to its programme."""

    def __init__(self, engine: Engine, programmes: Mapping[str, str]) -> None:
        self._engine = engine
        self._programmes = dict(programmes)

    def describe(self) -> Iterable[Metric]:
        return []  # collected lazily: describing would query the database at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("aiguilleur_database_up", "1 when the database answered the scrape")
        try:
            with Session(self._engine) as session:
                families = list(self._families(session, utcnow()))
        except Exception:  # a scrape must answer even when the database does not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, session: Session, now: datetime) -> Iterator[Metric]:
        inbound = GaugeMetricFamily(
            "aiguilleur_inbound_messages",
            "Inbound messages by mailbox, programme and status",
            labels=["mailbox", "programme", "status"],
        )
        rows = session.exec(
            select(InboundMessage.mailbox, InboundMessage.status, func.count()).group_by(
                InboundMessage.mailbox, InboundMessage.status
            )
        ).all()
        for mailbox, status, count in rows:
            inbound.add_metric([mailbox, self._programmes.get(mailbox, ""), status], count)
        yield inbound

        for family, (first, second) in (
            (
                GaugeMetricFamily(
                    "aiguilleur_cases",
                    "Cases by programme and status",
                    labels=["programme", "status"],
                ),
                (Case.programme, Case.status),
            ),
            (
                CounterMetricFamily(
                    "aiguilleur_rule_results",
                    "Rule evaluations by rule and outcome",
                    labels=["rule", "outcome"],
                ),
                (RuleResultRow.rule_id, RuleResultRow.outcome),
            ),
            (
                GaugeMetricFamily(
                    "aiguilleur_outbound_messages",
                    "Outbound messages by kind and status (failed: permanent delivery failure)",
                    labels=["kind", "status"],
                ),
                (OutboundMessage.kind, OutboundMessage.status),
            ),
        ):
            counted = select(first, second, func.count()).group_by(first, second)
            for left, right, count in session.exec(counted).all():
                family.add_metric([left, right], count)
            yield family

        # Mails a DSN returned undelivered, by mail kind (offer, ack…): rows are never
        # un-bounced, so the count only grows.
        bounces = CounterMetricFamily(
            "aiguilleur_bounces",
            "Outbound mails returned undelivered by a DSN, by mail kind",
            labels=["kind"],
        )
        bounced = (
            select(OutboundMessage.kind, func.count())
            .where(OutboundMessage.status == OutboundStatus.BOUNCED)
            .group_by(OutboundMessage.kind)
        )
        counts = {kind: 0 for kind in ReplyKind} | dict(session.exec(bounced).all())
        for kind, count in sorted(counts.items()):  # every kind at 0 before its first bounce
            bounces.add_metric([str(kind)], count)
        yield bounces

        depth, oldest = session.exec(
            select(func.count(), func.min(OutboundMessage.created_at)).where(
                OutboundMessage.status == OutboundStatus.PENDING
            )
        ).one()
        yield GaugeMetricFamily(
            "aiguilleur_outbox_depth", "Replies waiting to be sent", value=depth
        )
        yield GaugeMetricFamily(
            "aiguilleur_outbox_oldest_age_seconds",
            "Age of the oldest reply waiting to be sent (0 when none)",
            value=_age(now, oldest),
        )

        overdue = session.exec(
            select(func.count()).where(
                Offer.status == OfferStatus.PENDING,
                col(Offer.deadline_at).is_not(None),
                col(Offer.deadline_at) < now,
            )
        ).one()
        yield GaugeMetricFamily(
            "aiguilleur_offers_overdue", "Pending offers past their deadline", value=overdue
        )

        connected = GaugeMetricFamily(
            "aiguilleur_mailbox_connected", "1 when the mailbox is connected", labels=["mailbox"]
        )
        last_sync = GaugeMetricFamily(
            "aiguilleur_mailbox_last_sync_timestamp_seconds",
            "Unix time of the mailbox's last successful sync",
            labels=["mailbox"],
        )
        reconnects = CounterMetricFamily(
            "aiguilleur_imap_reconnects", "IMAP reconnections per mailbox", labels=["mailbox"]
        )
        for cursor in session.exec(select(MailboxCursor)).all():
            connected.add_metric([cursor.mailbox], int(cursor.connected))
            if cursor.last_sync_at is not None:
                last_sync.add_metric([cursor.mailbox], cursor.last_sync_at.timestamp())
            reconnects.add_metric([cursor.mailbox], cursor.reconnects)
        yield connected
        yield last_sync
        yield reconnects

        if is_postgres(session.get_bind()):
            # Several replicas: a mailbox whose lease is expired or absent is read by nobody.
            held = GaugeMetricFamily(
                "aiguilleur_mailbox_lease_held",
                "1 when a live replica holds the mailbox's lease",
                labels=["mailbox", "holder"],
            )
            leases = {lease.mailbox: lease for lease in session.exec(select(MailboxLease)).all()}
            for mailbox in self._programmes:
                lease = leases.get(mailbox)
                live = lease is not None and lease.holder is not None and lease.expires_at > now
                holder = lease.holder if lease is not None and live else ""
                held.add_metric([mailbox, holder or ""], int(live))
            yield held


class ParseWorkers(Protocol):
    """What the parse pool (``gateway.pipeline.parse_pool.ParsePool``) counts for ops."""

    @property
    def live_workers(self) -> int: ...

    @property
    def workers_started(self) -> int: ...

    @property
    def grown(self) -> int: ...

    @property
    def replacements(self) -> int: ...

    @property
    def releases(self) -> int: ...


class ParseWorkersCollector(Collector):
    """The parse workers alive now, and how they came and went since the daemon started."""

    def __init__(self, pool: ParseWorkers) -> None:
        self._pool = pool

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        pool = self._pool
        yield GaugeMetricFamily(
            "aiguilleur_parse_workers", "Parse worker processes alive", value=pool.live_workers
        )
        events = CounterMetricFamily(
            "aiguilleur_parse_worker_events",
            "Parse workers started (each fork, replacements included), grown (another started "
            "for messages waiting behind a slow one), replaced (the pool, after a timeout, a "
            "crash or the memory ceiling) and released (idle)",
            labels=["event"],
        )
        events.add_metric(["started"], pool.workers_started)
        events.add_metric(["grown"], pool.grown)
        events.add_metric(["replaced"], pool.replacements)
        events.add_metric(["released"], pool.releases)
        yield events


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class Metrics:
    """The process's metrics, in their own registry (no global state, several apps per test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._parse = Histogram(
            "aiguilleur_parse_duration_seconds",
            "Time spent parsing one message, by request kind",
            ["kind"],
            buckets=PARSE_BUCKETS,
            registry=self.registry,
        )
        self._smtp_failures = Counter(
            "aiguilleur_smtp_failures",
            "SMTP delivery failures: temporary (4xx, connection) or permanent (5xx)",
            ["kind"],
            registry=self.registry,
        )
        for kind in ("temporary", "permanent"):
            self._smtp_failures.labels(kind=kind)  # exported at 0 before the first failure
        self.loops = LoopHealth(self.registry)  # the loops report here; /readyz reads it

    def observe_parse(self, kind: str, seconds: float) -> None:
        self._parse.labels(kind=kind).observe(seconds)

    def smtp_failure(self, kind: SmtpFailureKind) -> None:
        self._smtp_failures.labels(kind=kind).inc()

    def watch_database(self, engine: Engine, programmes: Mapping[str, str]) -> None:
        self.registry.register(DatabaseCollector(engine, programmes))

    def watch_parse_workers(self, pool: ParseWorkers) -> None:
        self.registry.register(ParseWorkersCollector(pool))

    def render(self) -> bytes:
        """The exposition text (it queries the database when one is watched)."""
        return generate_latest(self.registry)
