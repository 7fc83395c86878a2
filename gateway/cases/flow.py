"""Carry a case through its life: decide, offer, take answers, relay, escalate.

Everything here runs inside the caller's transaction: the case, its offers, its
events and every mail it causes are committed together or not at all. The
decisions themselves are pure (``rules``, ``gateway.routing.plan``,
``gateway.routing.answers``); this module only applies them.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from gateway.cases.context import bump_rr
from gateway.cases.services import RoutingServices, assess_stored
from gateway.outbox.queue import NO_THREAD, Mailer, Thread
from gateway.replies.compose import OutboundAttachment
from gateway.replies.facts import ReplyFacts, ReplyIssue, ReplyKind, SummaryLine
from gateway.replies.understood import understood_fr
from gateway.routing.answers import classify_answer, own_text
from gateway.routing.assess import Assessment
from gateway.routing.plan import PlannedTarget
from gateway.routing.requis import patient_key
from gateway.routing.status import StatusView, status_view
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    CaseStatus,
    InboundMessage,
    Offer,
    OfferKind,
    OfferStatus,
    RuleResultRow,
    TeleExpertiseAct,
)
from parsers import ParsedMessage
from parsers.follow_up import merge_follow_up
from parsers.request import Problem, Request
from rules.dates import completed_months, completed_years
from rules.result import Outcome

__all__ = ["FOLLOW_UP_STATUSES", "CaseFlow", "Incoming", "blocking_issues", "issue_from_problem"]

log = structlog.get_logger("aiguilleur.routing")
PARIS = ZoneInfo("Europe/Paris")
# A message from the sender in these states completes the request; otherwise it asks for news.
FOLLOW_UP_STATUSES = frozenset({CaseStatus.RECEIVED, CaseStatus.INCOMPLETE, CaseStatus.INELIGIBLE})
_INSERT_RESULT = insert(RuleResultRow)  # built once
# An unclassifiable TE answer this long, or with files, is the avis itself.
AVIS_MIN_CHARS = 200

_SITUATION_LABELS = {
    "ald": "affection de longue durée",
    "arret_travail": "arrêt de travail",
    "sortie_hospitalisation": "sortie d'hospitalisation",
    "polypathologie": "polypathologie",
    "pathologie_desequilibree": "pathologie déséquilibrée",
    "hospitalisations_repetees": "hospitalisations répétées",
    "isolement_social": "isolement social",
    "vulnerabilite_sociale": "vulnérabilité sociale",
    "pratiques_inadaptees": "pratiques inadaptées",
    "dependance_multi_acteurs": "dépendance à plusieurs intervenants",
}


def issue_from_problem(problem: Problem) -> ReplyIssue:
    code = problem.code
    return ReplyIssue(
        code=code,
        diagnostics_fr=problem.message_fr,
        severity="error" if problem.severity == "error" else "warning",
        fhir_code="required" if code.endswith(".missing") else "invalid",
        field=problem.field,
    )


def blocking_issues(request: Request) -> list[ReplyIssue]:
    return [issue_from_problem(p) for p in request.problems if p.severity == "error"]


def _rule_issues(assessment: Assessment, outcomes: set[Outcome]) -> list[ReplyIssue]:
    return [
        ReplyIssue(
            code=r.rule_id,
            diagnostics_fr=r.reason_fr,
            fhir_code="required" if r.outcome is Outcome.MISSING else "business-rule",
        )
        for r in assessment.evaluation.results
        if r.outcome in outcomes
    ]


def _merge_issues(*groups: list[ReplyIssue]) -> list[ReplyIssue]:
    seen: set[str] = set()
    out: list[ReplyIssue] = []
    for issue in (i for g in groups for i in g):
        if issue.diagnostics_fr not in seen:
            seen.add(issue.diagnostics_fr)
            out.append(issue)
    return out


def _local_date(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


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
        self._config = services.config
        self._opened: set[int] = set()  # cases opened by this transaction

    # -- facts and mails --------------------------------------------------------------------

    def facts(self, case: Case, kind: ReplyKind, **extra: object) -> ReplyFacts:
        view = status_view(case.status, case.programme)
        data: dict[str, object] = {
            "kind": kind,
            "reference": case.reference,
            "programme": case.programme,
            "task_status": view.task_status,
            "business_status": view.code,
            "business_status_fr": view.label_fr,
            "received_at": case.opened_at,
            "structure_name": self._config.replies.structure_name,
            "doctor_name": case.doctor_name,
        }
        if kind in _UNDERSTOOD_IN and case.request_json:
            request = Request.model_validate_json(case.request_json)
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
        facts: ReplyFacts,
        to: str,
        cause_key: str,
        *,
        thread: Thread = NO_THREAD,
        attachments: Sequence[OutboundAttachment] = (),
    ) -> None:
        self.mailer.send(
            facts,
            to=to,
            cause_key=cause_key,
            case=case,
            thread=thread,
            attachments=attachments,
            rate_limited=False,
        )

    # -- new cases and complements ----------------------------------------------------------

    def open_case(self, incoming: Incoming, mailbox_name: str, programme: str) -> Case:
        request = incoming.parsed.request
        envelope = incoming.parsed.envelope
        case = Case(
            reference=repo.next_reference(self.session, self.now.year),
            programme=programme,
            status=CaseStatus.RECEIVED,
            mailbox=mailbox_name,
            sender=envelope.from_addr,
            root_message_id=envelope.message_id,
            request_json=request.model_dump_json(),
            opened_at=self.now,
            updated_at=self.now,
        )
        self._index_patient(case, request)
        self.session.add(case)
        self.session.flush()
        assert case.id is not None
        self._opened.add(case.id)
        incoming.row.case_id = case.id  # now, so the routing below can forward the original
        repo.add_event(self.session, case.id, "case_opened", {"programme": programme})
        repo.add_event(
            self.session,
            case.id,
            "message_received",
            {
                "inbound_id": incoming.row.id,
                "kind": request.kind.value,
                "problems": len(request.problems),
            },
        )
        return case

    def decide(
        self, case: Case, incoming: Incoming | None, *, follow_up: bool = False
    ) -> str | None:
        """Evaluate the case's request, store every rule result, reply, and route when eligible.

        Returns the kind of the reply sent to the sender, if any.
        """
        assert case.id is not None
        request = Request.model_validate_json(case.request_json or "{}")
        assessment = self.assess(case, request)
        self._store_results(case, assessment)
        decision = assessment.decision(request)
        outcome = decision.outcome
        parse_issues = blocking_issues(request)
        case.decision = outcome
        case.updated_at = self.now
        cause = (
            f"inbound:{incoming.row.id}"
            if incoming
            else f"case:{case.id}:decide:{self.now.isoformat()}"
        )
        repo.add_event(
            self.session,
            case.id,
            "rules_evaluated",
            {
                "outcome": outcome,
                "failed": [r.rule_id for r in assessment.evaluation.failed],
                "missing": [r.rule_id for r in assessment.evaluation.missing],
                "plan": assessment.plan.action,
            },
        )
        identity = assessment.evaluation.result("sender_verified")
        if identity is not None and identity.evidence.get("verifie") == "non":
            # Accepted by policy but flagged, so a coordinator sees it on the timeline.
            repo.add_event(self.session, case.id, "sender_unverified", {"policy": "accept"})
        if outcome == "rejected":
            case.status = CaseStatus.REJECTED
            case.closed_at = self.now
            issues = _rule_issues(assessment, {Outcome.FAILED})
            return self._reply(case, incoming, ReplyKind.REJECTED, cause, issues=issues)
        if decision.escalate_reason_fr is not None:
            # Our configuration is missing, not the patient's eligibility: a person decides.
            return self.escalate(case, decision.escalate_reason_fr, incoming, cause)
        if outcome == "ineligible":
            case.status = CaseStatus.INELIGIBLE
            issues = _rule_issues(assessment, {Outcome.FAILED, Outcome.MISSING})
            kind = ReplyKind.INELIGIBLE
            if case.programme == "medecin_referent":
                case.closed_at = self.now
            return self._reply(case, incoming, kind, cause, issues=issues)
        if outcome == "incomplete":
            case.status = CaseStatus.INCOMPLETE
            issues = _merge_issues(parse_issues, _rule_issues(assessment, {Outcome.MISSING}))
            kind = ReplyKind.FOLLOW_UP if follow_up else ReplyKind.INCOMPLETE
            return self._reply(case, incoming, kind, cause, issues=issues)
        case.status = CaseStatus.ELIGIBLE
        return self.route(case, request, assessment, incoming, cause, follow_up=follow_up)

    def follow_up(self, case: Case, incoming: Incoming) -> str | None:
        assert case.id is not None
        previous = Request.model_validate_json(case.request_json) if case.request_json else None
        merged = merge_follow_up(previous, incoming.parsed.request)
        case.request_json = merged.model_dump_json()
        self._index_patient(case, merged)
        repo.add_event(
            self.session,
            case.id,
            "follow_up_received",
            {"inbound_id": incoming.row.id, "remaining_problems": len(blocking_issues(merged))},
        )
        return self.decide(case, incoming, follow_up=True)

    def assess(self, case: Case, request: Request) -> Assessment:
        return assess_stored(
            self.session,
            self.services,
            case.programme,
            request,
            sender=case.sender,
            received_on=_local_date(self.now),
            case_id=case.id,
        )

    def _reply(
        self,
        case: Case,
        incoming: Incoming | None,
        kind: ReplyKind,
        cause: str,
        **extra: object,
    ) -> str | None:
        return self.to_sender(
            case, self.facts(case, kind, **extra), f"{cause}:{kind.value}", incoming
        )

    def _store_results(self, case: Case, assessment: Assessment) -> None:
        if not assessment.evaluation.results:
            return
        last = (
            0  # a case opened by this transaction has no earlier round
            if case.id in self._opened
            else self.session.exec(
                select(func.max(RuleResultRow.evaluation)).where(
                    col(RuleResultRow.case_id) == case.id
                )
            ).one()
        )
        round_no = int(last or 0) + 1
        assert case.id is not None
        # Written at once, outside the unit of work: results are never read back as objects.
        self.session.connection().execute(
            _INSERT_RESULT,
            [
                {
                    "case_id": case.id,
                    "evaluation": round_no,
                    "position": position,
                    "rule_id": result.rule_id,
                    "outcome": result.outcome.value,
                    "reason_fr": result.reason_fr,
                    "evidence_json": json.dumps(result.evidence, ensure_ascii=False),
                    "evaluated_at": self.now,
                }
                for position, result in enumerate(assessment.evaluation.results)
            ],
        )

    @staticmethod
    def _index_patient(case: Case, request: Request) -> None:
        p = request.patient
        case.patient_family_name = (p.family_name or "").upper()[:120] or None
        case.patient_ins = p.ins

    # -- routing ----------------------------------------------------------------------------

    def route(
        self,
        case: Case,
        request: Request,
        assessment: Assessment,
        incoming: Incoming | None,
        cause: str,
        *,
        follow_up: bool = False,
    ) -> str | None:
        plan = assessment.plan
        assert case.id is not None
        ack = ReplyKind.FOLLOW_UP if follow_up else ReplyKind.ACK
        if plan.action == "offer_sequence":
            bump_rr(self.session)
            self.offer(case, request, OfferKind.SIGNALEMENT, plan.targets[0])
            case.status = CaseStatus.ROUTED
            lines = [
                "La demande est éligible : nous la proposons aux médecins généralistes de la CPTS "
                "qui acceptent de nouveaux patients, et vous informerons dès qu'un médecin aura "
                "accepté."
            ]
            return self._reply(case, incoming, ack, cause, lines_fr=lines)
        if plan.action in ("te_named", "te_group"):
            kind = OfferKind.TE_NAMED if plan.action == "te_named" else OfferKind.TE_GROUP
            for target in plan.targets:
                self.offer(case, request, kind, target)
            case.status = CaseStatus.ROUTED
            return self._reply(case, incoming, ack, cause, lines_fr=[plan.reason_fr])
        if plan.action == "dac_referral":
            return self._refer_to_dac(case, request, assessment, incoming, cause)
        if plan.action == "return_outcome":
            case.status = CaseStatus.COMPLETED
            case.closed_at = self.now
            return self._reply(case, incoming, ReplyKind.OUTCOME, cause)
        if plan.action == "escalate":
            return self.escalate(case, plan.reason_fr, incoming, cause)
        return None

    def offer(
        self,
        case: Case,
        request: Request,
        kind: OfferKind,
        target: PlannedTarget,
        *,
        created_by: str = "aiguilleur",
    ) -> Offer:
        assert case.id is not None
        rank = self._count_offers(case) + 1
        deadline = self.now + timedelta(hours=self._config.routing.offer_deadline_hours)
        offer = Offer(
            case_id=case.id,
            kind=kind.value,
            rank=rank,
            doctor_rpps=target.rpps,
            doctor_name=target.name,
            doctor_email=target.email.lower(),
            status=OfferStatus.PENDING,
            sent_at=self.now,
            deadline_at=deadline,
            created_by=created_by,
        )
        self.session.add(offer)
        self.session.flush()
        cause = f"offer:{offer.id}"
        offer.message_id = self.mailer.message_id_for(cause)
        mail_kind = ReplyKind.OFFER if kind == OfferKind.SIGNALEMENT else ReplyKind.TE_REQUEST
        attachments = self._original(case) if mail_kind == ReplyKind.TE_REQUEST else ()
        facts = self.facts(
            case,
            mail_kind,
            summary=self._summary(case, request, identity=False),
            deadline_at=deadline,
        )
        self.to_party(case, facts, offer.doctor_email, cause, attachments=attachments)
        repo.add_event(
            self.session,
            case.id,
            "offer_sent",
            {"offer_id": offer.id, "rpps": target.rpps, "kind": kind.value, "rank": rank},
        )
        return offer

    def _refer_to_dac(
        self,
        case: Case,
        request: Request,
        assessment: Assessment,
        incoming: Incoming | None,
        cause: str,
    ) -> str | None:
        assert case.id is not None
        plan = assessment.plan
        team = plan.targets[0]
        facts = self.facts(
            case,
            ReplyKind.DAC_REFERRAL,
            summary=self._summary(case, request, identity=True),
            requester_email=case.sender,
        )
        self.to_party(
            case,
            facts,
            team.email,
            f"case:{case.id}:dac_referral",
            attachments=self._original(case),
        )
        lines: list[str] = []
        if plan.notify_medecin_traitant:
            if plan.medecin_traitant_email:
                notice = self.facts(
                    case, ReplyKind.MT_NOTICE, summary=self._summary(case, request, identity=True)
                )
                self.to_party(
                    case, notice, plan.medecin_traitant_email, f"case:{case.id}:mt_notice"
                )
                lines.append("Le médecin traitant du patient en a été informé.")
                repo.add_event(self.session, case.id, "medecin_traitant_notified", {})
            else:
                lines.append(
                    "Le médecin traitant doit être informé de cette demande ; son adresse "
                    "n'étant pas connue, l'équipe du DAC s'en chargera."
                )
                repo.add_event(self.session, case.id, "medecin_traitant_unknown", {})
        case.status = CaseStatus.ROUTED
        repo.add_event(self.session, case.id, "referred_to_dac", {"to": team.email})
        return self._reply(case, incoming, ReplyKind.TRANSMITTED, cause, lines_fr=lines)

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
        return self._reply(case, incoming, ReplyKind.NO_SOLUTION, cause, lines_fr=[reason_fr])

    def alert_coordinators(
        self, case: Case, reason_fr: str, cause: str, text: str | None = None
    ) -> None:
        for address in self._config.routing.coordinator_addresses:
            facts = self.facts(
                case, ReplyKind.COORDINATOR_ALERT, lines_fr=[reason_fr], text_fr=text
            )
            self.to_party(case, facts, address, f"{cause}:{address}")

    def next_signalement_offer(self, case: Case, cause: str) -> None:
        """After a refusal or an expiry: the next GP, or the coordinators."""
        request = Request.model_validate_json(case.request_json or "{}")
        assessment = self.assess(case, request)
        if assessment.plan.action == "offer_sequence":
            self.offer(case, request, OfferKind.SIGNALEMENT, assessment.plan.targets[0])
            case.status = CaseStatus.ROUTED
            case.updated_at = self.now
        else:
            self.escalate(
                case,
                "Aucun autre médecin disponible n'a accepté la demande : un coordinateur "
                "reprend le dossier.",
                None,
                cause,
            )

    def after_te_decline(self, case: Case, offer: Offer, cause: str) -> None:
        """A requis refused or let the deadline pass: the group, else the coordinators."""
        if self._pending_offers(case):
            return  # others in the group may still accept
        if offer.kind == OfferKind.TE_NAMED:
            request = Request.model_validate_json(case.request_json or "{}")
            # The named requis is now excluded as already offered: this yields the group.
            assessment = self.assess(case, request)
            if assessment.plan.action == "te_group" or assessment.plan.action == "te_named":
                for target in assessment.plan.targets:
                    self.offer(case, request, OfferKind.TE_GROUP, target)
                return
        self.escalate(
            case,
            "Aucun médecin de la filière n'a pris la demande : un coordinateur reprend le dossier.",
            None,
            cause,
        )

    # -- answers from doctors ---------------------------------------------------------------

    def doctor_message(self, case: Case, offer: Offer, incoming: Incoming) -> str:
        """A message from a doctor the case was offered to. Returns what it was taken as."""
        assert case.id is not None and offer.id is not None
        body = incoming.parsed.body_text or ""
        text = own_text(body, fold=False)
        answer = classify_answer(body)
        files = incoming.parsed.request.attachments
        is_te = offer.kind in (OfferKind.TE_NAMED, OfferKind.TE_GROUP)
        if offer.status == OfferStatus.ACCEPTED and is_te:
            self._relay_avis(case, offer, incoming, text)
            return "avis"
        if offer.status != OfferStatus.PENDING:
            note = self.facts(
                case,
                ReplyKind.OFFER_WITHDRAWN,
                lines_fr=["elle a déjà été attribuée ou close."],
            )
            self.to_party(
                case,
                note,
                offer.doctor_email,
                f"inbound:{incoming.row.id}:late",
                thread=incoming.thread,
            )
            return "late"
        offer.answer_inbound_id = incoming.row.id
        offer.answered_at = self.now
        if is_te and answer == "ambiguous" and (files or len(text.strip()) >= AVIS_MIN_CHARS):
            self._accept(case, offer, incoming, confirm=False)
            self._relay_avis(case, offer, incoming, text)
            return "avis"
        if answer == "accept":
            self._accept(case, offer, incoming, confirm=True)
            return "accept"
        if answer == "refuse":
            self._decline(case, offer, OfferStatus.REFUSED, f"inbound:{incoming.row.id}")
            return "refuse"
        # Ambiguous: a person decides; the offer stays open meanwhile.
        offer.answered_at = None
        case.status = CaseStatus.WAITING_COORDINATOR
        case.updated_at = self.now
        repo.add_event(
            self.session,
            case.id,
            "answer_ambiguous",
            {"offer_id": offer.id, "inbound_id": incoming.row.id},
        )
        self.alert_coordinators(
            case,
            f"La réponse de {offer.doctor_name} n'a pas pu être interprétée.",
            f"inbound:{incoming.row.id}:ambiguous",
            text[:2000],
        )
        forwarded = self.facts(case, ReplyKind.ANSWER_FORWARDED)
        self.to_party(
            case,
            forwarded,
            offer.doctor_email,
            f"inbound:{incoming.row.id}:forwarded",
            thread=incoming.thread,
        )
        return "ambiguous"

    def _accept(
        self, case: Case, offer: Offer, incoming: Incoming | None, *, confirm: bool
    ) -> None:
        assert case.id is not None
        offer.status = OfferStatus.ACCEPTED
        offer.answered_at = self.now
        case.doctor_rpps = offer.doctor_rpps
        case.doctor_name = offer.doctor_name
        case.updated_at = self.now
        repo.add_event(
            self.session,
            case.id,
            "offer_accepted",
            {"offer_id": offer.id, "rpps": offer.doctor_rpps},
        )
        request = Request.model_validate_json(case.request_json or "{}")
        for other in self._pending_offers(case):
            if other.id == offer.id:
                continue
            other.status = OfferStatus.WITHDRAWN
            other.answered_at = self.now
            taken = self.facts(
                case, ReplyKind.OFFER_WITHDRAWN, lines_fr=["un confrère l'a prise en charge."]
            )
            self.to_party(case, taken, other.doctor_email, f"offer:{other.id}:withdrawn")
        if offer.kind == OfferKind.SIGNALEMENT:
            case.status = CaseStatus.COMPLETED
            case.closed_at = self.now
        else:
            case.status = CaseStatus.ACCEPTED
        if confirm:
            confirmed = self.facts(
                case,
                ReplyKind.OFFER_CONFIRMED,
                summary=self._summary(case, request, identity=True),
                requester_email=case.sender,
            )
            thread = incoming.thread if incoming else NO_THREAD
            self.to_party(
                case, confirmed, offer.doctor_email, f"offer:{offer.id}:confirmed", thread=thread
            )
        accepted = self.facts(case, ReplyKind.ACCEPTED, doctor_email=offer.doctor_email)
        self.to_sender(case, accepted, f"offer:{offer.id}:accepted")

    def _relay_avis(self, case: Case, offer: Offer, incoming: Incoming, text: str) -> None:
        assert case.id is not None
        offer.status = OfferStatus.ANSWERED
        case.status = CaseStatus.COMPLETED
        case.closed_at = self.now
        case.updated_at = self.now
        self._record_acts(case, offer)
        files = _attachments_of(incoming.row.raw)
        avis = self.facts(
            case, ReplyKind.AVIS, doctor_email=offer.doctor_email, text_fr=text.strip() or None
        )
        self.to_sender(case, avis, f"inbound:{incoming.row.id}:avis", attachments=files)
        repo.add_event(
            self.session,
            case.id,
            "avis_relayed",
            {"offer_id": offer.id, "inbound_id": incoming.row.id, "attachments": len(files)},
        )

    def _record_acts(self, case: Case, offer: Offer) -> None:
        assert case.id is not None
        request = Request.model_validate_json(case.request_json or "{}")
        key = patient_key(request) or f"case:{case.reference}"
        today = _local_date(self.now)
        filiere = request.tele_expertise.filiere
        sender_doctor = next(
            (d for d in self.services.roster if d.email.lower() == (case.sender or "")), None
        )
        for code, rpps, address, name in (
            ("TE2", offer.doctor_rpps, offer.doctor_email, offer.doctor_name),
            (
                "RQD",
                sender_doctor.rpps if sender_doctor else request.reporter.rpps,
                case.sender or "",
                sender_doctor.name if sender_doctor else None,
            ),
        ):
            exists = self.session.exec(
                select(TeleExpertiseAct).where(
                    col(TeleExpertiseAct.case_id) == case.id, col(TeleExpertiseAct.code) == code
                )
            ).first()
            if exists is None:
                self.session.add(
                    TeleExpertiseAct(
                        case_id=case.id,
                        code=code,
                        professional_rpps=rpps,
                        professional_email=address,
                        professional_name=name,
                        requis_rpps=offer.doctor_rpps,
                        patient_key=key,
                        filiere=filiere,
                        performed_on=today,
                        created_at=self.now,
                    )
                )
        repo.add_event(self.session, case.id, "acts_recorded", {"codes": ["TE2", "RQD"]})

    # -- timers -----------------------------------------------------------------------------

    def expire(self, case: Case, offer: Offer) -> None:
        offer.answered_at = self.now
        self._decline(case, offer, OfferStatus.EXPIRED, f"offer:{offer.id}:expired")

    def _decline(self, case: Case, offer: Offer, status: OfferStatus, cause: str) -> None:
        """A refusal or an expiry: record it, then offer the case on (or escalate)."""
        assert case.id is not None
        offer.status = status
        repo.add_event(
            self.session,
            case.id,
            f"offer_{status.value}",  # offer_refused, offer_expired
            {"offer_id": offer.id, "rpps": offer.doctor_rpps},
        )
        if offer.kind == OfferKind.SIGNALEMENT:
            self.next_signalement_offer(case, cause)
        else:
            self.after_te_decline(case, offer, cause)

    def remind(self, case: Case, offer: Offer) -> None:
        assert case.id is not None
        offer.reminded_at = self.now
        request = Request.model_validate_json(case.request_json or "{}")
        facts = self.facts(
            case,
            ReplyKind.REMINDER,
            summary=self._summary(case, request, identity=False),
            deadline_at=offer.deadline_at,
        )
        self.to_party(
            case,
            facts,
            offer.doctor_email,
            f"offer:{offer.id}:reminder",
            thread=Thread(in_reply_to=offer.message_id),
        )
        repo.add_event(self.session, case.id, "offer_reminded", {"offer_id": offer.id})

    # -- status -----------------------------------------------------------------------------

    def status_reply(
        self, case: Case | None, incoming: Incoming, *, authorised: bool
    ) -> str | None:
        cause = f"inbound:{incoming.row.id}"
        if case is None or not authorised:
            facts = ReplyFacts(
                kind=ReplyKind.STATUS_NEUTRAL,
                reference=None,
                programme=None,
                task_status="rejected",
                business_status="non_communique",
                business_status_fr="Information non communiquée",
                received_at=incoming.row.received_at,
                structure_name=self._config.replies.structure_name,
            )
            to = incoming.sender
            if to is None:
                return None
            queued = self.mailer.send(
                facts,
                to=to,
                cause_key=f"{cause}:status_neutral",
                case=None,
                thread=incoming.thread,
                inbound_id=incoming.row.id,
            )
            return facts.kind.value if queued else None
        view: StatusView = status_view(case.status, case.programme)
        assert case.id is not None
        repo.add_event(self.session, case.id, "status_requested", {"inbound_id": incoming.row.id})
        facts = self.facts(
            case, ReplyKind.STATUS, received_at=incoming.row.received_at, lines_fr=view.lines_fr
        )
        return self.to_sender(case, facts, f"{cause}:status", incoming)

    # -- queries ----------------------------------------------------------------------------

    def offers(self, case: Case) -> list[Offer]:
        return list(
            self.session.exec(
                select(Offer).where(col(Offer.case_id) == case.id).order_by(col(Offer.id))
            ).all()
        )

    def offer_for(self, case: Case, address: str | None) -> Offer | None:
        """The latest offer of this case made to ``address``."""
        if not address:
            return None
        found = [o for o in self.offers(case) if o.doctor_email == address.lower()]
        return found[-1] if found else None

    def parties(self, case: Case) -> set[str]:
        """Who may learn the case's status: its sender and the doctors it was offered to."""
        found = {o.doctor_email for o in self.offers(case)}
        if case.sender:
            found.add(case.sender)
        return found

    def _pending_offers(self, case: Case) -> list[Offer]:
        return [o for o in self.offers(case) if o.status == OfferStatus.PENDING]

    def _count_offers(self, case: Case) -> int:
        return len(self.offers(case))

    def _original(self, case: Case) -> tuple[OutboundAttachment, ...]:
        """The request as received, so the doctor or team sees every document."""
        row = self.session.exec(
            select(InboundMessage)
            .where(col(InboundMessage.case_id) == case.id)
            .order_by(col(InboundMessage.id))
        ).first()
        if row is None:
            return ()
        return (
            OutboundAttachment(
                filename=f"demande-{case.reference}.eml",
                content_type="message/rfc822",
                data=row.raw,
            ),
        )

    def _summary(self, case: Case, request: Request, *, identity: bool) -> list[SummaryLine]:
        """What a doctor needs; the patient's identity only once they are involved."""
        p = request.patient
        on = _local_date(self.now)
        lines: list[SummaryLine] = []
        if identity and (p.family_name or p.given_names):
            name = " ".join([*(p.given_names[:1]), (p.family_name or "").upper()]).strip()
            lines.append(SummaryLine(label="Patient", value=name))
        if p.birth_date:
            if identity:
                lines.append(
                    SummaryLine(label="Date de naissance", value=p.birth_date.strftime("%d/%m/%Y"))
                )
            years = completed_years(p.birth_date, on)
            age = f"{years} ans" if years >= 2 else f"{completed_months(p.birth_date, on)} mois"
            lines.append(SummaryLine(label="Âge", value=age))
        place = " ".join(x for x in (p.postal_code, p.city) if x)
        if place:
            lines.append(SummaryLine(label="Commune", value=place))
        if identity and p.phone:
            lines.append(SummaryLine(label="Téléphone du patient", value=p.phone))
        situations = [
            label
            for key, label in _SITUATION_LABELS.items()
            if getattr(request.situation, key, None)
        ]
        ald = request.situation.ald or request.situation.ald_declared
        if ald and "affection de longue durée" not in situations:
            situations.insert(0, "affection de longue durée")
        if situations:
            lines.append(SummaryLine(label="Situation", value=", ".join(situations)))
        te = request.tele_expertise
        if case.programme == "tele_expertise":
            if te.filiere:
                lines.append(SummaryLine(label="Filière", value=te.filiere))
            if te.question:
                lines.append(SummaryLine(label="Question", value=te.question[:1500]))
            if te.urgency:
                lines.append(SummaryLine(label="Urgence", value=te.urgency))
        if identity and case.sender:
            lines.append(SummaryLine(label="Adressé par", value=case.sender))
        return lines


def _attachments_of(raw: bytes) -> tuple[OutboundAttachment, ...]:
    """The files a doctor attached to an avis, to relay them as they are."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        return ()
    found: list[OutboundAttachment] = []
    for part in msg.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        found.append(
            OutboundAttachment(
                filename=part.get_filename() or "piece-jointe",
                content_type=part.get_content_type(),
                data=data,
            )
        )
    return tuple(found)
