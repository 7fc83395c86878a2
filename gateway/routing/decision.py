"""The decision the sender is told, from the rules' outcome and the parser's errors (pure).

Shared by the daemon (``flow.CaseFlow.decide``) and ``aiguilleur check`` so the dry run
says exactly what the daemon would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.wording import say
from parsers.merge import get_path, with_path
from parsers.request import Conflict, Problem, Request
from rules.context import RuleContext
from rules.engine import DecisionOutcome, Evaluation, evaluate
from rules.patient_in_territory import NOT_CONFIGURED
from rules.programmes import ProgrammeSpec
from rules.result import Outcome

__all__ = [
    "NOT_CONFIGURED",
    "TO_COORDINATOR",
    "FinalDecision",
    "Verdict",
    "decisive_conflicts",
    "final_decision",
    "verdict",
]


# The case's decision when the verdict escalates: neither eligible nor refused yet.
TO_COORDINATOR = "coordinator"


class FinalDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: DecisionOutcome  # what the sender is told
    rules_outcome: DecisionOutcome  # what the rules alone said
    reasons_fr: list[str]
    # Eligible by the rules but a required field is absent: routing waits for the complement.
    held: bool = False
    # Failed only because our own configuration is missing: a coordinator decides.
    escalate_reason_fr: str | None = None


def _other_value(request: Request, conflict: Conflict) -> object:
    """The value the losing source gave, typed like the kept one."""
    kept = get_path(request, conflict.field)
    if isinstance(kept, bool):
        return {"oui": True, "non": False}.get(conflict.other)
    if isinstance(kept, date):
        try:
            return date.fromisoformat(conflict.other)
        except ValueError:
            return None
    if isinstance(kept, str):
        return conflict.other
    return None


def _variant(request: Request, field: str, value: object) -> Request | None:
    """``request`` as if ``field`` held ``value``; None when that is ``request`` itself
    (already evaluated) or when the field does not exist."""
    variant = with_path(request, field, value)
    if field == "situation.ald_declared" and value is False and variant is not None:
        # "pas d'ALD" denies the numbered ones too.
        return with_path(variant, "situation.ald", [])
    if variant is None or get_path(request, field) == value:
        return None
    return variant


def decisive_conflicts(
    spec: ProgrammeSpec, request: Request, context: RuleContext, evaluation: Evaluation
) -> list[Conflict]:
    """Disagreements between sources that would change the decision (pure).

    The request is evaluated again with the other source's value; when the outcome
    differs, precedence alone must not decide: a coordinator does.
    """
    decisive: list[Conflict] = []
    for conflict in request.conflicts:
        other = _other_value(request, conflict)
        if other is None:
            continue
        variants = [
            variant
            for value in (other, get_path(request, conflict.field))
            if (variant := _variant(request, conflict.field, value)) is not None
        ]
        outcome = evaluation.decision.outcome
        if any(evaluate(spec, v, context).decision.outcome != outcome for v in variants):
            decisive.append(conflict)
    return decisive


def _conflict_reason(conflicts: Sequence[Conflict]) -> str:
    described = "; ".join(
        say(
            "routing.decision.conflict_item",
            kept=c.kept,
            kept_from=c.kept_from.source,
            other=c.other,
            other_from=c.other_from.source,
        )
        for c in conflicts
    )
    return say("routing.decision.conflict", described=described)


def final_decision(
    evaluation: Evaluation,
    blocking: Sequence[Problem],
    conflicts: Sequence[Conflict] = (),
) -> FinalDecision:
    """Rejected and ineligible stand; otherwise parse errors make the request incomplete.

    A disagreement between sources that would change the outcome goes to a coordinator.
    """
    rules_outcome = evaluation.decision.outcome
    reasons = list(evaluation.reasons_fr)
    if conflicts and rules_outcome != "rejected":
        return FinalDecision(
            outcome=rules_outcome,
            rules_outcome=rules_outcome,
            reasons_fr=reasons,
            escalate_reason_fr=_conflict_reason(conflicts),
        )
    if rules_outcome == "ineligible":
        failed = evaluation.failed
        if failed and all(r.evidence.get("territoire") == NOT_CONFIGURED for r in failed):
            return FinalDecision(
                outcome="ineligible",
                rules_outcome=rules_outcome,
                reasons_fr=reasons,
                escalate_reason_fr=failed[0].reason_fr,
            )
    if blocking and rules_outcome in ("eligible", "incomplete"):
        return FinalDecision(
            outcome="incomplete",
            rules_outcome=rules_outcome,
            reasons_fr=list(dict.fromkeys([*(p.message_fr for p in blocking), *reasons])),
            held=rules_outcome == "eligible",
        )
    return FinalDecision(outcome=rules_outcome, rules_outcome=rules_outcome, reasons_fr=reasons)


VerdictStep = Literal["reject", "escalate", "refuse", "ask", "route"]


class Verdict(BaseModel):
    """What the daemon does with a decided request, before any I/O (pure).

    ``aiguilleur check`` prints it; ``gateway.cases.intake.decide`` applies it.
    """

    model_config = ConfigDict(frozen=True)

    step: VerdictStep
    status: str  # the case's status afterwards (a ``CaseStatus`` value)
    closes: bool = False  # the case is closed at once
    issue_outcomes: frozenset[Outcome] = frozenset()  # rule results the reply lists
    parse_issues: bool = False  # the parser's blocking problems are listed too
    escalate_reason_fr: str | None = None


def verdict(decision: FinalDecision, *, close_on_ineligible: bool) -> Verdict:
    outcome = decision.outcome
    if outcome == "rejected":
        return Verdict(
            step="reject",
            status="rejected",
            closes=True,
            issue_outcomes=frozenset({Outcome.FAILED}),
        )
    if decision.escalate_reason_fr is not None:
        # Sources disagree, or our own configuration is missing: a person decides.
        return Verdict(
            step="escalate",
            status="waiting_coordinator",
            escalate_reason_fr=decision.escalate_reason_fr,
        )
    if outcome == "ineligible":
        return Verdict(
            step="refuse",
            status="ineligible",
            closes=close_on_ineligible,
            issue_outcomes=frozenset({Outcome.FAILED, Outcome.MISSING}),
        )
    if outcome == "incomplete":
        return Verdict(
            step="ask",
            status="incomplete",
            issue_outcomes=frozenset({Outcome.MISSING}),
            parse_issues=True,
        )
    return Verdict(step="route", status="eligible")
