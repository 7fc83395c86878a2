"""What the database knows that routing reads: loaded before each pure step.

Used by the daemon inside a case's transaction and by ``aiguilleur check`` on a
read-only session alike; reads only, except ``bump_rr`` which the flow calls when
an offer goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import bindparam, func, text
from sqlmodel import Session, col, select

from gateway.directory.verify import identify, verify_sender
from gateway.routing.assess import StoredFacts, request_date_of, strategy_of
from gateway.routing.requis import QUOTA_WINDOW, patient_key
from gateway.routing.roster import RosterDoctor
from gateway.routing.strategies import Strategy
from gateway.storage import repo
from gateway.storage.db import is_postgres
from gateway.storage.models import Offer, OfferKind, OfferStatus, RoutingCounter, TeleExpertiseAct
from parsers.normalise.addresses import normalise_address
from parsers.request import Request
from rules.context import SenderIdentity
from rules.programmes import ProgrammeSpec

__all__ = [
    "RR_COUNTER",
    "acts_by_requis",
    "bump_rr",
    "load_facts",
    "open_offer_counts",
    "rr_cursor",
    "with_routing_facts",
]

RR_COUNTER = "signalement_round_robin"
# pg_advisory_xact_lock key of GP offer decisions (an arbitrary constant of ours).
GP_OFFERS_LOCK = 0x41494731


def acts_by_requis(session: Session | None, key: str | None, on_date: date) -> dict[str, int]:
    """TE2 acts per requis RPPS for this patient within the quota window before ``on_date``."""
    if session is None or key is None:
        return {}
    params = {"key": key, "after": on_date - QUOTA_WINDOW, "on": on_date}
    rows = repo.read(session, _ACTS_BY_REQUIS, params).all()
    return {rpps: int(n) for rpps, n in rows if rpps}


def requerant_acts(session: Session | None, sender: str, year: int) -> int:
    if session is None:
        return 0
    params = {
        "email": normalise_address(sender),
        "first": date(year, 1, 1),
        "last": date(year, 12, 31),
    }
    return int(repo.read(session, _REQUERANT_ACTS, params).scalar_one())


def open_offer_counts(session: Session) -> dict[str, int]:
    """Pending signalement offers per GP, to balance new ones."""
    rows = repo.read(session, _OPEN_OFFERS, {}).all()
    return {rpps: int(n) for rpps, n in rows if rpps}


def rr_cursor(session: Session) -> int:
    """The round-robin cursor; on PostgreSQL, GP offers are decided one at a time.

    Replicas would otherwise read the same cursor and open-offer counts and offer two
    patients to the same doctor. A transaction-scoped advisory lock (allowed in a read-only
    transaction, unlike FOR UPDATE) serialises the read, the offers and the bump until
    commit. SQLite has a single writer already.
    """
    if is_postgres(session.get_bind()):
        repo.read(session, _GP_OFFERS_LOCK, {"key": GP_OFFERS_LOCK})
    value = repo.read(session, _RR_CURSOR, {"name": RR_COUNTER}).scalar()
    return int(value or 0)


def bump_rr(session: Session) -> None:
    """Advance the cursor in one statement: no increment is lost, whoever else writes."""
    repo.increment(session, RoutingCounter, "name", RR_COUNTER, "value")


def offered_to(session: Session, case_id: int) -> frozenset[str]:
    return frozenset(
        rpps for rpps in repo.read(session, _OFFERED_TO, {"case_id": case_id}).scalars() if rpps
    )


# The reads above, built once (a statement built per call costs more than its execution).
_ACTS_BY_REQUIS = (
    select(TeleExpertiseAct.requis_rpps, func.count())
    .where(
        col(TeleExpertiseAct.patient_key) == bindparam("key"),
        col(TeleExpertiseAct.code) == "TE2",
        col(TeleExpertiseAct.performed_on) > bindparam("after"),
        col(TeleExpertiseAct.performed_on) <= bindparam("on"),
    )
    .group_by(col(TeleExpertiseAct.requis_rpps))
)
_REQUERANT_ACTS = (
    select(func.count())
    .select_from(TeleExpertiseAct)
    .where(
        col(TeleExpertiseAct.code) == "RQD",
        col(TeleExpertiseAct.professional_email) == bindparam("email"),
        col(TeleExpertiseAct.performed_on) >= bindparam("first"),
        col(TeleExpertiseAct.performed_on) <= bindparam("last"),
    )
)
_OPEN_OFFERS = (
    select(Offer.doctor_rpps, func.count())
    .where(
        col(Offer.status) == OfferStatus.PENDING.value,
        col(Offer.kind) == OfferKind.SIGNALEMENT.value,
    )
    .group_by(col(Offer.doctor_rpps))
)
_GP_OFFERS_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_RR_CURSOR = select(RoutingCounter.value).where(col(RoutingCounter.name) == bindparam("name"))
_OFFERED_TO = select(Offer.doctor_rpps).where(col(Offer.case_id) == bindparam("case_id"))


def load_facts(
    session: Session | None,
    request: Request,
    roster: Sequence[RosterDoctor],
    *,
    spec: ProgrammeSpec,
    sender: str | None,
    received_on: date,
) -> StoredFacts:
    """The stored facts the rules read, for one request on its own date.

    ``session`` is None when no database is at hand (``aiguilleur check`` without a
    configuration): the sender is then known from the roster only, and no act,
    offer or counter exists.
    """
    identity = SenderIdentity()
    if sender:
        identity = (
            verify_sender(session, sender, roster)
            if session is not None
            else identify(sender, roster, None)
        )
    acts: dict[str, int] = {}
    requerant: int | None = None
    request_date = request_date_of(request, received_on)
    if strategy_of(spec).reads_requis:
        acts = acts_by_requis(session, patient_key(request), request_date)
        requerant = requerant_acts(session, sender, request_date.year) if sender else None
    return StoredFacts(sender=identity, te_acts_by_requis=acts, requerant_acts_this_year=requerant)


def with_routing_facts(
    session: Session | None,
    facts: StoredFacts,
    *,
    strategy: Strategy,
    case_id: int | None,
    new_case: bool,
) -> StoredFacts:
    """``facts`` plus what only the plan of an eligible request reads: the doctors this case
    was offered to (none yet for a case opened by this transaction), and for balanced
    strategies the round-robin cursor (locked on PostgreSQL) and the open offers."""
    if session is None:
        return facts
    balance = strategy.balances_offers
    return replace(
        facts,
        already_offered=(
            offered_to(session, case_id) if case_id is not None and not new_case else frozenset()
        ),
        rr_cursor=rr_cursor(session) if balance else 0,
        open_offers=open_offer_counts(session) if balance else {},
    )
