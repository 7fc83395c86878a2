"""The FHIR R4 Task carried by every reply (built and validated with fhir.resources, R4B models).

R4B's Task and OperationOutcome are the R4 resources unchanged, so the JSON is valid R4.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.task import Task

from gateway.replies.facts import ReplyFacts
from gateway.wording import say

__all__ = ["CASE_SYSTEM", "build_task", "task_json"]

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


def build_task(facts: ReplyFacts) -> Task:
    data: dict[str, Any] = {
        "resourceType": "Task",
        "status": facts.task_status,
        "intent": "order",
        "businessStatus": {
            "coding": [{"system": BUSINESS_STATUS_SYSTEM, "code": facts.business_status}],
            "text": facts.business_status_fr,
        },
        "authoredOn": (facts.authored_on or facts.received_at).isoformat(),
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
    return Task.model_validate(data)


def task_json(facts: ReplyFacts) -> str:
    return build_task(facts).model_dump_json(exclude_none=True, indent=2)
