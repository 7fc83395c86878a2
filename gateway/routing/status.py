"""A case's status as the sender reads it: FHIR Task status, business code, French label."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gateway.wording import label
from rules.programmes import ProgrammeSpec

__all__ = ["StatusView", "TaskStatus", "status_view"]

# FHIR Task.status values we use.
TaskStatus = Literal[
    "received", "accepted", "rejected", "in-progress", "completed", "cancelled", "failed"
]


@dataclass(frozen=True)
class StatusView:
    task_status: TaskStatus
    code: str
    label_fr: str
    lines_fr: list[str] = field(default_factory=list)


# Case status (a ``CaseStatus`` value) → FHIR Task status and the generic business code.
# The Task follows FHIR's state machine as the case moves on: received (read, being
# examined) → accepted (eligible) → in-progress (routed: offers or referral sent; a
# doctor took it; a coordinator has it) → completed; or rejected. A doctor accepting a
# routed case keeps it in progress: the Task never steps back from in-progress to accepted.
_VIEWS: dict[str, tuple[TaskStatus, str]] = {
    "received": ("received", "recu"),
    "incomplete": ("received", "incomplet"),
    "eligible": ("accepted", "eligible"),
    "ineligible": ("rejected", "non_eligible"),
    "rejected": ("rejected", "non_recevable"),
    "routed": ("in-progress", "oriente"),
    "waiting_coordinator": ("in-progress", "attente_coordinateur"),
    "accepted": ("in-progress", "pris_en_charge"),
    "completed": ("completed", "termine"),
    "closed": ("completed", "clos"),
}


def status_view(status: str, programme: ProgrammeSpec | None) -> StatusView:
    """The view of a case in ``status``; the programme may name the status its own way."""
    task, code = _VIEWS.get(status, ("received", status))
    text = label("status", code, default=status)
    lines: list[str] = []
    own = programme.status.get(status) if programme is not None else None
    if own is not None:
        code = own.code or code
        text = own.label_fr or (label("status", code, default=text) if own.code else text)
        if own.line_fr:
            lines.append(own.line_fr)
    return StatusView(task_status=task, code=code, label_fr=text, lines_fr=lines)
