"""Run a programme's rules in order, keep every hit and miss, and decide.

Every rule runs, even after a failure, so the reply lists all the reasons at
once instead of making the sender come back once per problem.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from parsers.request import Request
from rules.context import RuleContext
from rules.dac_requester import NOTIFY_MT
from rules.programmes import ProgrammeSpec
from rules.result import Outcome, RuleResult

__all__ = ["Decision", "DecisionOutcome", "Evaluation", "evaluate", "operation_outcome_issues"]

DecisionOutcome = Literal["eligible", "ineligible", "incomplete", "rejected"]


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: DecisionOutcome
    # DAC asked by the patient or family: the médecin traitant must be told.
    notify_medecin_traitant: bool = False


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    programme: str
    results: list[RuleResult]
    decision: Decision
    reasons_fr: list[str]  # what the sender must read: failures first, then what is missing
    admission_rule_ids: frozenset[str] = frozenset()  # failures here mean "rejected"

    def result(self, rule_id: str) -> RuleResult | None:
        return next((r for r in self.results if r.rule_id == rule_id), None)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def missing(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome is Outcome.MISSING]


def _unique(reasons: list[str]) -> list[str]:
    return list(dict.fromkeys(reasons))


def evaluate(spec: ProgrammeSpec, request: Request, context: RuleContext) -> Evaluation:
    results = [step.rule.check(request, context, step.params) for step in spec.steps]
    admission = frozenset(step.rule_id for step in spec.steps if step.rule.sender_admission)

    refused = [r for r in results if r.outcome is Outcome.FAILED and r.rule_id in admission]
    failed = [r for r in results if r.outcome is Outcome.FAILED]
    missing = [r for r in results if r.outcome is Outcome.MISSING]

    outcome: DecisionOutcome
    if refused:
        # Tell an inadmissible sender why they are refused, not how to fix the rest.
        outcome, reasons = "rejected", [r.reason_fr for r in refused]
    elif failed:
        outcome, reasons = "ineligible", [r.reason_fr for r in failed + missing]
    elif missing:
        outcome, reasons = "incomplete", [r.reason_fr for r in missing]
    else:
        outcome, reasons = "eligible", []

    notify = any(r.evidence.get(NOTIFY_MT) == "oui" for r in results)
    return Evaluation(
        programme=spec.name,
        results=results,
        decision=Decision(outcome=outcome, notify_medecin_traitant=notify),
        reasons_fr=_unique(reasons),
        admission_rule_ids=admission,
    )


def operation_outcome_issues(evaluation: Evaluation) -> list[tuple[str, str]]:
    """``(code, diagnostics_fr)`` for every failed or missing rule; the code is the rule id."""
    return [
        (r.rule_id, r.reason_fr)
        for r in evaluation.results
        if r.outcome in (Outcome.FAILED, Outcome.MISSING)
    ]
