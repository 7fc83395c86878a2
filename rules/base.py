"""What a rule is: an id, a French description, a params model and a pure check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from parsers.request import Request
from rules.context import RuleContext
from rules.result import Outcome, RuleResult

__all__ = ["NoParams", "Params", "Rule", "failed", "missing", "passed"]


class Params(BaseModel):
    """Base of every rule's parameters: unknown keys are configuration errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class Rule(Generic[P]):
    id: str
    description: str
    params_model: type[P]
    check: Callable[[Request, RuleContext, P], RuleResult]
    # A failure means the sender is not admissible: the decision is "rejected".
    sender_admission: bool = False
    # The Request fields it decides on: their provenance is the evidence shown with it.
    reads: tuple[str, ...] = ()

    def default_params(self) -> P:
        return self.params_model()


def passed(rule_id: str, reason_fr: str, **evidence: str) -> RuleResult:
    return RuleResult(
        rule_id=rule_id, outcome=Outcome.PASSED, reason_fr=reason_fr, evidence=evidence
    )


def failed(rule_id: str, reason_fr: str, **evidence: str) -> RuleResult:
    return RuleResult(
        rule_id=rule_id, outcome=Outcome.FAILED, reason_fr=reason_fr, evidence=evidence
    )


def missing(rule_id: str, reason_fr: str, **evidence: str) -> RuleResult:
    return RuleResult(
        rule_id=rule_id, outcome=Outcome.MISSING, reason_fr=reason_fr, evidence=evidence
    )
