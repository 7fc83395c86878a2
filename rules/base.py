"""What a rule is: an id, a French description, a params model and a pure check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from parsers.request import Request
from rules.context import RuleContext
from rules.result import Outcome, RuleResult

__all__ = ["NoParams", "Params", "Rule", "failed", "missing", "passed", "yes_no_rule"]


class Params(BaseModel):
    """Base of every rule's parameters: unknown keys are configuration errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # At least one of these must be filled in before the rule can decide anything
    # (a territory's codes, say); all empty, the rule escalates and config check warns.
    required_any: ClassVar[tuple[str, ...]] = ()

    def unconfigured(self) -> tuple[str, ...]:
        """The names of ``required_any`` when every one of them is empty, else ()."""
        if self.required_any and not any(getattr(self, n) for n in self.required_any):
            return self.required_any
        return ()


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


def yes_no_rule(
    rule_id: str,
    description: str,
    field: str,
    *,
    evidence_key: str,
    yes: tuple[str, str],
    no: tuple[str, str],
    unstated: tuple[str, str],
) -> Rule[NoParams]:
    """A rule on one yes/no field of the request, e.g. ``"situation.dsp_active"``.

    Only a stated no fails: no refusal without evidence, so silence is asked for.
    ``yes``, ``no`` and ``unstated`` are each (French reason, evidence value).
    """
    answer_of = attrgetter(field)  # a misspelt field raises instead of reading as unstated

    def check(request: Request, context: RuleContext, params: NoParams) -> RuleResult:
        answer = answer_of(request)
        if answer is True:
            return passed(rule_id, yes[0], **{evidence_key: yes[1]})
        if answer is False:
            return failed(rule_id, no[0], **{evidence_key: no[1]})
        return missing(rule_id, unstated[0], **{evidence_key: unstated[1]})

    return Rule(
        id=rule_id, description=description, params_model=NoParams, check=check, reads=(field,)
    )
