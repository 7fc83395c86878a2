"""What a reply says, as typed data: the templates and the FHIR Task are both built from it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["ReplyFacts", "ReplyIssue", "ReplyKind", "TaskStatus"]

TaskStatus = Literal[
    "received", "rejected", "accepted", "in-progress", "completed", "failed", "cancelled"
]


class ReplyKind(StrEnum):
    ACK = "ack"  # received, case opened
    INCOMPLETE = "incomplete"  # received, information missing
    FOLLOW_UP = "follow_up"  # a complement to an open case was received
    UNREADABLE = "unreadable"  # quarantined: we could not process the message
    TOO_LARGE = "too_large"  # over the size limit


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
    task_status: TaskStatus
    business_status: str  # the programme's own status code, e.g. "recu", "incomplet"
    business_status_fr: str
    status_reason_fr: str | None = None
    issues: list[ReplyIssue] = Field(default_factory=list)
    received_at: datetime
    structure_name: str = "CPTS"
