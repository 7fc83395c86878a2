"""What a reply lists as wrong or missing: parser problems and rule results, as FHIR issues."""

from __future__ import annotations

from gateway.replies.facts import ReplyIssue
from parsers.request import Problem, Request
from rules.engine import Evaluation
from rules.result import Outcome

__all__ = ["blocking_issues", "issue_from_problem", "merge_issues", "rule_issues"]


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


def rule_issues(evaluation: Evaluation, outcomes: set[Outcome]) -> list[ReplyIssue]:
    return [
        ReplyIssue(
            code=r.rule_id,
            diagnostics_fr=r.reason_fr,
            fhir_code="required" if r.outcome is Outcome.MISSING else "business-rule",
        )
        for r in evaluation.results
        if r.outcome in outcomes
    ]


def merge_issues(*groups: list[ReplyIssue]) -> list[ReplyIssue]:
    seen: set[str] = set()
    out: list[ReplyIssue] = []
    for issue in (i for g in groups for i in g):
        if issue.diagnostics_fr not in seen:
            seen.add(issue.diagnostics_fr)
            out.append(issue)
    return out
