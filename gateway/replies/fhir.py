"""The FHIR R4 Task carried by every reply.

The daemon writes the JSON from plain data: validating it with fhir.resources on every reply
cost about a tenth of the decide stage's CPU for a result that never varies in shape. The
tests validate one Task of each kind the daemon writes with ``build_task`` (fhir.resources'
R4B models; R4B's Task and OperationOutcome are the R4 resources unchanged).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.replies.facts import ReplyFacts
from gateway.wording import say

if TYPE_CHECKING:
    from fhir.resources.R4B.task import Task

__all__ = ["CASE_SYSTEM", "build_task", "task_data", "task_json"]

CASE_SYSTEM = "urn:aiguilleur:case-reference"
BUSINESS_STATUS_SYSTEM = "urn:aiguilleur:business-status"
PROGRAMME_SYSTEM = "urn:aiguilleur:programme"
ISSUE_SYSTEM = "urn:aiguilleur:issue"


def _operation_outcome(facts: ReplyFacts) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "id": "problemes",
        "issue": [
            {
                "severity": issue.severity,
                "code": issue.fhir_code,
                "details": {
                    "coding": [{"system": ISSUE_SYSTEM, "code": issue.code}],
                    "text": issue.diagnostics_fr,
                },
                "diagnostics": issue.diagnostics_fr,
                **({"expression": [issue.field]} if issue.field else {}),
            }
            for issue in facts.issues
        ],
    }


def _instant(moment: datetime) -> str:
    """FHIR dateTime as fhir.resources writes it: UTC as "Z"."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_data(facts: ReplyFacts) -> dict[str, Any]:
    """The Task as JSON-ready data (no empty element: FHIR forbids them)."""
    data: dict[str, Any] = {
        "resourceType": "Task",
        "status": facts.task_status,
        "intent": "order",
        "businessStatus": {
            "coding": [{"system": BUSINESS_STATUS_SYSTEM, "code": facts.business_status}],
            "text": facts.business_status_fr,
        },
        "authoredOn": _instant(facts.authored_on or facts.received_at),
    }
    if facts.reference:
        data["identifier"] = [{"system": CASE_SYSTEM, "value": facts.reference}]
    if facts.programme:
        data["code"] = {"coding": [{"system": PROGRAMME_SYSTEM, "code": facts.programme}]}
    if facts.doctor_name:
        data["owner"] = {"display": facts.doctor_name}
    if facts.status_reason_fr:
        data["statusReason"] = {"text": facts.status_reason_fr}
    if facts.issues:
        data["contained"] = [_operation_outcome(facts)]
        data["output"] = [
            {
                "type": {"text": say("fhir.issues_output")},
                "valueReference": {"reference": "#problemes"},
            }
        ]
    return data


def build_task(facts: ReplyFacts) -> Task:
    """The Task validated against the R4 model (tests, and tools that want the object)."""
    from fhir.resources.R4B.task import Task

    return Task.model_validate(task_data(facts))


def task_json(facts: ReplyFacts) -> str:
    # Compact: with ``indent`` json falls back to its pure-Python encoder (34 µs a reply,
    # against 9). Systems read this attachment; people read the mail's text.
    return json.dumps(task_data(facts), ensure_ascii=False, separators=(",", ":"))
