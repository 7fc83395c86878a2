"""Offer deadlines and reminders, run from one task with an injectable clock.

Each due offer is handled in its own transaction, under the case's lock, and
re-checked there: an answer that arrived meanwhile wins over the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine
from sqlmodel import col, select

from gateway.cases.bounces import refused_offer_mails, take_refused_offer_mail
from gateway.cases.flow import CaseFlow
from gateway.cases.offers import expire, remind
from gateway.cases.retention import Retention
from gateway.cases.services import RoutingServices
from gateway.loops import LoopHealth
from gateway.outbox.queue import Mailer
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.models import Case, Offer, OfferStatus, utcnow
from gateway.waiting import wait_any

__all__ = ["TimerReport", "Timers"]

log = structlog.get_logger("aiguilleur.timers")


@dataclass(frozen=True)
class TimerReport:
    expired: int = 0
    reminded: int = 0
    refused: int = 0  # offers whose mail our relay refused for good: declined, moved on

    @property
    def total(self) -> int:
        return self.expired + self.reminded + self.refused


class Timers:
    def __init__(
        self,
        *,
        engine: Engine,
        services: RoutingServices,
        renderer: ReplyRenderer,
        clock: Callable[[], datetime] = utcnow,
        outbox_wakeup: asyncio.Event | None = None,
        loops: LoopHealth | None = None,
    ) -> None:
        self._loops = loops or LoopHealth()
        self._engine = engine
        self._services = services
        self._renderer = renderer
        self._clock = clock
        self._outbox_wakeup = outbox_wakeup
        # Low frequency (retention.interval_minutes), from the loop only: `aiguilleur timers
        # --at` moves the offers' clock, never the purge's.
        self._retention = Retention(engine, services.config)

    def _due(self, now: datetime) -> tuple[list[int], list[int]]:
        routing = self._services.config.routing
        with repo.session_for(self._engine) as session:
            expired = session.exec(
                select(Offer.id).where(
                    col(Offer.status) == OfferStatus.PENDING,
                    col(Offer.deadline_at).is_not(None),
                    col(Offer.deadline_at) <= now,
                )
            ).all()
            reminded: list[int | None] = []
            if routing.reminder_after_hours > 0:
                sent_before = now - timedelta(hours=routing.reminder_after_hours)
                reminded = list(
                    session.exec(
                        select(Offer.id).where(
                            col(Offer.status) == OfferStatus.PENDING,
                            col(Offer.reminded_at).is_(None),
                            col(Offer.sent_at) <= sent_before,
                            col(Offer.deadline_at) > now,
                        )
                    ).all()
                )
        return [i for i in expired if i is not None], [i for i in reminded if i is not None]

    def _apply(self, offer_id: int, now: datetime, action: str) -> bool:
        with repo.session_for(self._engine) as session:
            offer = session.get(Offer, offer_id)
            case = session.get(Case, offer.case_id) if offer is not None else None
            if offer is None or case is None:
                return False
            case = repo.lock_case(session, case)
            session.refresh(offer)
            if offer.status != OfferStatus.PENDING:
                return False  # answered meanwhile
            if action == "remind" and offer.reminded_at is not None:
                return False  # another replica's pass reminded it meanwhile
            flow = CaseFlow(
                session, self._services, Mailer(session, self._renderer, self._services.config, now)
            )
            if action == "expire":
                expire(flow, case, offer)
            else:
                remind(flow, case, offer)
            session.commit()
        log.info("offer_timer", offer_id=offer_id, action=action)
        return True

    def _refused_due(self) -> list[int]:
        with repo.session_for(self._engine) as session:
            return refused_offer_mails(session)

    def _refused(self, outbound_id: int, now: datetime) -> bool:
        with repo.session_for(self._engine) as session:
            flow = CaseFlow(
                session, self._services, Mailer(session, self._renderer, self._services.config, now)
            )
            moved = take_refused_offer_mail(flow, outbound_id)
            session.commit()
        if moved:
            log.info("offer_timer", outbound_id=outbound_id, action="refused")
        return moved

    def run_once(self, now: datetime | None = None) -> TimerReport:
        """One pass at ``now`` (the clock's time by default)."""
        moment = now or self._clock()
        expired_ids, reminder_ids = self._due(moment)
        expired = sum(self._apply(i, moment, "expire") for i in expired_ids)
        reminded = sum(self._apply(i, moment, "remind") for i in reminder_ids)
        refused = sum(self._refused(i, moment) for i in self._refused_due())
        report = TimerReport(expired=expired, reminded=reminded, refused=refused)
        if report.total and self._outbox_wakeup is not None:
            self._outbox_wakeup.set()
        return report

    async def run(self, stop: asyncio.Event) -> None:
        interval = self._services.config.routing.timer_interval
        while not stop.is_set():
            pause = interval
            try:
                await asyncio.to_thread(self.run_once)
                await asyncio.to_thread(self._retention.run_if_due)
                self._loops.ok("timers")
            except Exception as exc:  # a bad row must not stop deadlines for everyone
                pause = min(interval, self._loops.failed("timers", exc))
            await wait_any(stop, timeout=pause)
