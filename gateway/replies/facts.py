"""What a reply says, as typed data: the templates and the FHIR Task are both built from it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal, TypedDict

from pydantic import BaseModel, Field

from gateway.routing.status import TaskStatus

__all__ = [
    "DOCTOR_FACING",
    "ReplyExtras",
    "ReplyFacts",
    "ReplyIssue",
    "ReplyKind",
    "SummaryLine",
    "TaskStatus",
]


class ReplyKind(StrEnum):
    # To the sender of a request, with the FHIR Task attached.
    ACK = "ack"  # received, case opened, eligible: routing under way
    INCOMPLETE = "incomplete"  # received, information missing
    FOLLOW_UP = "follow_up"  # a complement to an open case was received
    UNREADABLE = "unreadable"  # quarantined: we could not process the message
    TOO_LARGE = "too_large"  # over the size limit
    INELIGIBLE = "ineligible"  # a criterion failed
    REJECTED = "rejected"  # the sender may not use this programme
    ACCEPTED = "accepted"  # a doctor took the case
    NO_SOLUTION = "no_solution"  # nobody left to ask: a coordinator takes over
    AVIS = "avis"  # télé-expertise: the requis's answer, relayed
    OUTCOME = "outcome"  # médecin référent: the eligibility outcome
    TRANSMITTED = "transmitted"  # appui DAC: sent to the DAC team
    CLOSED = "closed"  # a coordinator closed the case with an outcome
    STATUS = "status"  # answer to a status query by a party to the case
    STATUS_NEUTRAL = "status_neutral"  # status query by someone else: nothing disclosed
    # To doctors, teams and coordinators; no Task.
    OFFER = "offer"  # signalement: will you take this patient?
    TE_REQUEST = "te_request"  # télé-expertise: will you give an opinion?
    OFFER_CONFIRMED = "offer_confirmed"  # your acceptance is recorded
    OFFER_WITHDRAWN = "offer_withdrawn"  # taken by someone else, or closed
    REMINDER = "reminder"  # offer unanswered after the reminder delay
    ANSWER_FORWARDED = "answer_forwarded"  # your answer was unclear: a coordinator will call
    COORDINATOR_ALERT = "coordinator_alert"  # a case needs a person
    DAC_REFERRAL = "dac_referral"  # to the DAC team
    MT_NOTICE = "mt_notice"  # to the médecin traitant, about a DAC request
    # To whoever asked for one (Disposition-Notification-To): an MDN, no Task.
    MDN = "mdn"  # RFC 8098: the message was processed


DOCTOR_FACING = frozenset(
    {
        ReplyKind.OFFER,
        ReplyKind.TE_REQUEST,
        ReplyKind.OFFER_CONFIRMED,
        ReplyKind.OFFER_WITHDRAWN,
        ReplyKind.REMINDER,
        ReplyKind.ANSWER_FORWARDED,
        ReplyKind.COORDINATOR_ALERT,
        ReplyKind.DAC_REFERRAL,
        ReplyKind.MT_NOTICE,
    }
)


class SummaryLine(BaseModel):
    """One line of a case summary shown to a doctor: ``label : value``."""

    label: str
    value: str


class ReplyIssue(BaseModel):
    """One line of the OperationOutcome: a stable code and a French explanation."""

    code: str
    diagnostics_fr: str
    severity: Literal["fatal", "error", "warning", "information"] = "error"
    fhir_code: Literal["required", "invalid", "business-rule", "too-long", "processing"] = "invalid"
    field: str | None = None


class ReplyFacts(BaseModel):
    kind: ReplyKind
    reference: str | None
    programme: str | None
    programme_label_fr: str | None = None  # "votre …"
    routing: str | None = None  # the programme's routing strategy, for templates
    task_status: TaskStatus
    business_status: str  # the programme's own status code, e.g. "recu", "incomplet"
    business_status_fr: str
    status_reason_fr: str | None = None
    issues: list[ReplyIssue] = Field(default_factory=list)
    # When the message the text speaks of arrived ("reçu le …", "votre complément du …"):
    # its stored reception time (``inbound_message.received_at``), never the case's opening.
    received_at: datetime
    # Task.authoredOn: when the request the case was opened for arrived (default: received_at).
    authored_on: datetime | None = None
    structure_name: str = "CPTS"
    # What happens next, or why, in plain French (routing reasons, coordinator message).
    lines_fr: list[str] = Field(default_factory=list)
    doctor_name: str | None = None
    doctor_email: str | None = None
    requester_email: str | None = None  # the sender of the request, for the doctor
    requester_name: str | None = None  # who the requérant is, when the roster or form says
    summary: list[SummaryLine] = Field(default_factory=list)
    text_fr: str | None = None  # quoted text: an avis, a doctor's unclear answer
    deadline_at: datetime | None = None
    # "Nous avons compris : ...": what the request was read to say, so a sender can correct it.
    understood_fr: str | None = None

    @property
    def doctor_facing(self) -> bool:
        return self.kind in DOCTOR_FACING


class ReplyExtras(TypedDict, total=False):
    """What a caller adds to a case's reply facts; typed so a misspelt key fails mypy."""

    issues: list[ReplyIssue]
    lines_fr: list[str]
    doctor_email: str | None
    requester_email: str | None
    requester_name: str | None
    summary: list[SummaryLine]
    text_fr: str | None
    deadline_at: datetime | None
    received_at: datetime
    authored_on: datetime
    status_reason_fr: str | None
    business_status: str  # a coordinator's closing outcome overrides the status's own
    business_status_fr: str
