"""The per-transaction kit every stage of a case's life uses.

Everything in ``gateway.cases`` runs inside the caller's transaction: the case, its
offers, its events and every mail it causes are committed together or not at all.
``CaseFlow`` holds that transaction's session, services and mailer, and the few
moves all stages share: the facts of a reply, sending to the sender or to a party,
escalating to a coordinator. The stages themselves are free functions taking the
kit: ``intake`` (new requests and complements), ``offers``, ``answers`` (doctors'
replies), ``status`` (status queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Unpack
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from gateway.cases.services import RoutingServices, assess_stored
from gateway.outbox.queue import NO_THREAD, Mailer, Thread
from gateway.replies.compose import OutboundAttachment
from gateway.replies.facts import ReplyExtras, ReplyFacts, ReplyKind, SummaryLine
from gateway.replies.summary import AgeCriteria, summary
from gateway.replies.understood import understood_fr
from gateway.routing.assess import Assessment
from gateway.routing.status import status_view
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    CaseStatus,
    InboundMessage,
    InboundRaw,
    Offer,
    OfferStatus,
)
from parsers import ParsedMessage
from parsers.request import Request
from rules.programmes import ProgrammeSpec
from rules.situation_eligible import SituationCriterion, SituationParams

__all__ = ["NO_THREAD", "CaseFlow", "Incoming", "local_date"]

log = structlog.get_logger("aiguilleur.cases")
PARIS = ZoneInfo("Europe/Paris")


def local_date(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


# Built once: the request's raw bytes, by its message or as the case's first message.
_RAW_BY_ID = select(InboundRaw.raw).where(col(InboundRaw.inbound_id) == bindparam("key"))
_FIRST_RAW_OF_CASE = (
    select(InboundRaw.raw)
    .join(InboundMessage, col(InboundMessage.id) == col(InboundRaw.inbound_id))
    .where(col(InboundMessage.case_id) == bindparam("key"))
    .order_by(col(InboundMessage.id))
    .limit(1)
)

# Replies that answer a request's content: they repeat what was understood of it.
_UNDERSTOOD_IN = frozenset(
    {
        ReplyKind.ACK,
        ReplyKind.INCOMPLETE,
        ReplyKind.FOLLOW_UP,
        ReplyKind.INELIGIBLE,
        ReplyKind.REJECTED,  # "demande écrite par un proche": a misread writer can say so
        ReplyKind.NO_SOLUTION,
        ReplyKind.TRANSMITTED,
        ReplyKind.OUTCOME,
    }
)


@dataclass(frozen=True)
class Incoming:
    """The inbound message being handled, as the flow needs it."""

    row: InboundMessage
    parsed: ParsedMessage

    @property
    def sender(self) -> str | None:
        env = self.parsed.envelope
        return env.reply_to or env.from_addr

    @property
    def thread(self) -> Thread:
        env = self.parsed.envelope
        return Thread(
            subject=env.subject, in_reply_to=env.message_id, references=tuple(env.references)
        )


class CaseFlow:
    """One transaction's worth of case work. Build one per transaction."""

    def __init__(self, session: Session, services: RoutingServices, mailer: Mailer) -> None:
        self.session = session
        self.services = services
        self.mailer = mailer
        self.now = mailer.now
        self.config = services.config
        self.opened: set[int] = set()  # cases opened by this transaction
        self._request_received: dict[int, datetime] = {}  # case id → when its request arrived
        self._opened_by: dict[int, int] = {}  # opened case id → the inbound id it was opened for
        self._offers_made: dict[int, int] = {}  # opened case id → offers made to it so far
        self._originals: dict[int, tuple[OutboundAttachment, ...]] = {}  # case id → its request
        self._requests: dict[int, tuple[str, Request]] = {}  # case id → (its JSON, read)

    def raw(self, incoming: Incoming) -> bytes:
        """The message's bytes as received, read when a step needs them."""
        assert incoming.row.id is not None
        raw = repo.inbound_raw(self.session, incoming.row.id)
        if raw is None:
            raise LookupError(f"inbound {incoming.row.id} has no bytes")
        return raw

    def note_opened(self, case: Case, incoming: Incoming) -> None:
        """``case`` was just opened for ``incoming``: its request arrived with that message."""
        assert case.id is not None and incoming.row.id is not None
        self.opened.add(case.id)
        self._request_received[case.id] = incoming.row.received_at
        self._opened_by[case.id] = incoming.row.id
        if case.request_json is not None:
            # The case's text was just written from this request: not read back (the stored
            # parse result is read back the same way on a retry: the models round-trip).
            self._requests[case.id] = (case.request_json, incoming.parsed.request)

    def request_received_at(self, case: Case) -> datetime:
        """When the request the case was opened for arrived: the stored reception time of
        its first message (committed by ingest), not when the case was opened, which a
        backlog or a retry delays."""
        if case.id is None:
            return case.opened_at
        found = self._request_received.get(case.id)
        if found is None:
            found = self.session.exec(
                select(InboundMessage.received_at)
                .where(col(InboundMessage.case_id) == case.id)
                .order_by(col(InboundMessage.id))
                .limit(1)
            ).first()
            found = found or case.opened_at  # a case with no message of its own
            self._request_received[case.id] = found
        return found

    def facts(self, case: Case, kind: ReplyKind, **extra: Unpack[ReplyExtras]) -> ReplyFacts:
        spec = self.spec(case)
        view = status_view(case.status, spec)
        received_at = self.request_received_at(case)
        data: dict[str, object] = {
            "kind": kind,
            "reference": case.reference,
            "programme": case.programme,
            "programme_label_fr": spec.mail_label_fr if spec else None,
            "routing": spec.routing if spec else None,
            "task_status": view.task_status,
            "business_status": view.code,
            "business_status_fr": view.label_fr,
            "received_at": received_at,
            "authored_on": received_at,
            "structure_name": self.config.replies.structure_name,
            "doctor_name": case.doctor_name,
        }
        if kind in _UNDERSTOOD_IN and case.request_json:
            request = self.request_of(case)
            on = request.request_date or case.opened_at.date()
            data["understood_fr"] = understood_fr(request, on)
        data.update(extra)
        return ReplyFacts.model_validate(data)

    def to_sender(
        self,
        case: Case,
        facts: ReplyFacts,
        cause_key: str,
        incoming: Incoming | None = None,
        attachments: Sequence[OutboundAttachment] = (),
    ) -> str | None:
        """Reply to the case's sender, in the thread of what they wrote last."""
        to = (incoming.sender if incoming else None) or case.sender
        if to is None:
            return None
        thread = (
            incoming.thread if incoming else Thread(in_reply_to=case.root_message_id, references=())
        )
        queued = self.mailer.send(
            facts,
            to=to,
            cause_key=cause_key,
            case=case,
            thread=thread,
            inbound_id=incoming.row.id if incoming else None,
            attachments=attachments,
        )
        return facts.kind.value if queued else None

    def to_party(
        self,
        case: Case,
        kind: ReplyKind,
        to: str,
        cause_key: str,
        *,
        brief: Request | None = None,
        identity: bool = False,
        thread: Thread = NO_THREAD,
        attachments: Sequence[OutboundAttachment] = (),
        **extra: Unpack[ReplyExtras],
    ) -> None:
        """Write to a doctor, a team or a coordinator; `brief` adds the request's summary."""
        if brief is not None:
            extra["summary"] = self.summary(case, brief, identity=identity)
        facts = self.facts(case, kind, **extra)
        self.mailer.send(
            facts,
            to=to,
            cause_key=cause_key,
            case=case,
            thread=thread,
            attachments=attachments,
            rate_limited=False,
        )

    def reply(
        self,
        case: Case,
        incoming: Incoming | None,
        kind: ReplyKind,
        cause: str,
        **extra: Unpack[ReplyExtras],
    ) -> str | None:
        if kind == ReplyKind.FOLLOW_UP and incoming is not None:
            # "Nous avons bien reçu votre complément du …": the complement's arrival.
            extra.setdefault("received_at", incoming.row.received_at)
        return self.to_sender(
            case, self.facts(case, kind, **extra), f"{cause}:{kind.value}", incoming
        )

    def assess(self, case: Case, request: Request) -> Assessment:
        return assess_stored(
            self.session,
            self.services,
            case.programme,
            request,
            sender=case.sender,
            received_on=local_date(self.now),
            case_id=case.id,
            new_case=case.id in self.opened,
        )

    def escalate(
        self,
        case: Case,
        reason_fr: str,
        incoming: Incoming | None,
        cause: str,
        text: str | None = None,
    ) -> str | None:
        """Nobody left to ask: a coordinator takes over, and the sender is told."""
        assert case.id is not None
        case.status = CaseStatus.WAITING_COORDINATOR
        case.updated_at = self.now
        self.alert_coordinators(case, reason_fr, f"{cause}:escalation", text)
        repo.add_event(self.session, case.id, "escalated", {"reason": reason_fr})
        return self.reply(case, incoming, ReplyKind.NO_SOLUTION, cause, lines_fr=[reason_fr])

    def alert_coordinators(
        self, case: Case, reason_fr: str, cause: str, text: str | None = None
    ) -> None:
        for address in self.config.routing.coordinator_addresses:
            self.to_party(
                case,
                ReplyKind.COORDINATOR_ALERT,
                address,
                f"{cause}:{address}",
                lines_fr=[reason_fr],
                text_fr=text,
            )

    def offers(self, case: Case) -> list[Offer]:
        return list(
            self.session.exec(
                select(Offer).where(col(Offer.case_id) == case.id).order_by(col(Offer.id))
            ).all()
        )

    def next_offer_rank(self, case: Case) -> int:
        """The rank of the offer about to be made: 1 + the offers the case has had. A case
        this transaction opened has had only those made here, counted without a query."""
        assert case.id is not None
        if case.id not in self.opened:
            return len(self.offers(case)) + 1
        rank = self._offers_made.get(case.id, 0) + 1
        self._offers_made[case.id] = rank
        return rank

    def offer_for(self, case: Case, address: str | None) -> Offer | None:
        """The latest offer of this case made to ``address``."""
        if not address:
            return None
        found = [o for o in self.offers(case) if o.doctor_email == address.lower()]
        return found[-1] if found else None

    def pending_offers(self, case: Case) -> list[Offer]:
        return [o for o in self.offers(case) if o.status == OfferStatus.PENDING]

    def original(self, case: Case) -> tuple[OutboundAttachment, ...]:
        """The request as received, so the doctor or team sees every document (read once
        per transaction: a télé-expertise goes to every doctor of a filière group)."""
        assert case.id is not None
        found = self._originals.get(case.id)
        if found is not None:
            return found
        opened_by = self._opened_by.get(case.id)
        # A case this transaction opened is linked to its message when the message is done.
        # On the connection, without a flush: raw bytes never change, pending edits can wait.
        statement, key = (
            (_RAW_BY_ID, opened_by) if opened_by is not None else (_FIRST_RAW_OF_CASE, case.id)
        )
        raw = self.session.connection().execute(statement, {"key": key}).scalar()
        if raw is None:
            return ()  # not kept: its message may not be linked to the case yet
        found = (
            OutboundAttachment(
                filename=f"demande-{case.reference}.eml", content_type="message/rfc822", data=raw
            ),
        )
        self._originals[case.id] = found
        return found

    def summary(self, case: Case, request: Request, *, identity: bool) -> list[SummaryLine]:
        """What a doctor needs; the patient's identity only once they are involved."""
        on = local_date(self.now)
        spec = self.spec(case)
        sections = spec.summary_sections if spec else ("patient", "situation", "sender")
        ages = _age_criteria(spec)
        return summary(sections, case.sender, request, on, identity=identity, ages=ages)

    def requester_name(self, case: Case, request: Request) -> str | None:
        """Who sent the request, by name: the roster's entry for the sender's address, else
        the name the request gives for its author."""
        sender = (case.sender or "").lower()
        doctor = next((d for d in self.services.roster if d.email.lower() == sender), None)
        if doctor is not None and sender:
            return doctor.name
        reporter = request.reporter
        if not reporter.family_name:
            return None
        return " ".join(x for x in (reporter.given_name, reporter.family_name.upper()) if x)

    def spec(self, case: Case) -> ProgrammeSpec | None:
        """The case's programme (None if a CPTS file no longer declares it)."""
        return self.services.programmes.get(case.programme)

    def request_of(self, case: Case) -> Request:
        """The case's request as stored (merged with every complement). Read once per stored
        text: the rules, the replies' facts and each offer ask for it. Read, never changed."""
        stored = case.request_json or "{}"
        found = self._requests.get(case.id) if case.id is not None else None
        if found is not None and found[0] == stored:
            return found[1]
        request = Request.model_validate_json(stored)
        if case.id is not None:
            self._requests[case.id] = (stored, request)
        return request


def _age_criteria(spec: ProgrammeSpec | None) -> AgeCriteria | None:
    """The age criteria of the programme's situation rule, for the summary's situation line."""
    step = spec.step("situation_eligible") if spec is not None else None
    if step is None or not isinstance(step.params, SituationParams):
        return None
    params = step.params
    return AgeCriteria(
        older_than_years=(
            params.older_than_years if SituationCriterion.AGE_ELDER in params.criteria else None
        ),
        child_max_months=(
            params.child_max_months if SituationCriterion.ENFANT in params.criteria else None
        ),
    )
