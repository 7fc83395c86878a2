"""The engine: every rule runs, the decision precedence, reasons and OperationOutcome codes."""

from __future__ import annotations

from datetime import date

import pytest

from parsers.request import Request
from rules.base import NoParams, Params, Rule, failed, missing, passed
from rules.context import RuleContext
from rules.engine import evaluate, operation_outcome_issues
from rules.programmes import ProgrammeSpec, RuleStep
from rules.result import Outcome, RuleResult

CTX = RuleContext(request_date=date(2026, 3, 1))


def _rule(rule_id: str, outcome: Outcome, *, admission: bool = False) -> Rule[NoParams]:
    def check(request: Request, context: RuleContext, params: NoParams) -> RuleResult:
        make = {Outcome.PASSED: passed, Outcome.FAILED: failed, Outcome.MISSING: missing}[outcome]
        return make(rule_id, f"raison {rule_id}")

    return Rule(
        id=rule_id,
        description="Règle de test.",
        params_model=NoParams,
        check=check,
        sender_admission=admission,
    )


def _spec(*rules: Rule[NoParams]) -> ProgrammeSpec:
    steps: tuple[RuleStep, ...] = tuple(RuleStep(rule=r, params=NoParams()) for r in rules)
    return ProgrammeSpec(name="test", label_fr="Test", steps=steps)


P, F, M = Outcome.PASSED, Outcome.FAILED, Outcome.MISSING


@pytest.mark.parametrize(
    ("admission", "others", "decision", "reasons"),
    [
        (P, [P, P], "eligible", []),
        (P, [P, M], "incomplete", ["raison r2"]),
        (P, [F, M], "ineligible", ["raison r1", "raison r2"]),  # failures, then what is missing
        (P, [M, F], "ineligible", ["raison r2", "raison r1"]),
        (F, [F, M], "rejected", ["raison gate"]),  # the sender only hears why they are refused
        (F, [P, P], "rejected", ["raison gate"]),
    ],
)
def test_decision_precedence(
    admission: Outcome, others: list[Outcome], decision: str, reasons: list[str]
) -> None:
    spec = _spec(
        _rule("gate", admission, admission=True),
        *(_rule(f"r{i + 1}", o) for i, o in enumerate(others)),
    )
    evaluation = evaluate(spec, Request(), CTX)
    assert evaluation.decision.outcome == decision
    assert evaluation.reasons_fr == reasons
    # Every rule ran and was recorded, in order, even after a failure.
    assert [r.rule_id for r in evaluation.results] == ["gate", "r1", "r2"]
    assert evaluation.admission_rule_ids == {"gate"}


def test_operation_outcome_lists_failed_and_missing_in_order() -> None:
    spec = _spec(_rule("a", P), _rule("b", M), _rule("c", F))
    evaluation = evaluate(spec, Request(), CTX)
    assert operation_outcome_issues(evaluation) == [("b", "raison b"), ("c", "raison c")]
    assert evaluation.result("a") is not None
    assert evaluation.result("zzz") is None


def test_identical_reasons_are_listed_once() -> None:
    class Same(Params):
        pass

    def check(request: Request, context: RuleContext, params: Same) -> RuleResult:
        return missing("x", "même raison")

    rules = [Rule(id=i, description="d.", params_model=Same, check=check) for i in ("x", "y")]
    spec = ProgrammeSpec(
        name="t", label_fr="t", steps=tuple(RuleStep(rule=r, params=Same()) for r in rules)
    )
    assert evaluate(spec, Request(), CTX).reasons_fr == ["même raison"]


def test_results_serialise_for_the_timeline() -> None:
    evaluation = evaluate(_spec(_rule("a", F)), Request(), CTX)
    dumped = evaluation.model_dump(mode="json")
    assert dumped["results"][0] == {
        "rule_id": "a",
        "outcome": "failed",
        "reason_fr": "raison a",
        "evidence": {},
    }
    assert dumped["decision"]["outcome"] == "ineligible"
