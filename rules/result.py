"""The result of one rule: passed, failed or missing, with a French reason."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Outcome", "RuleResult"]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the information is there and does not meet the criterion
    MISSING = "missing"  # the information needed to decide is absent


class RuleResult(BaseModel):
    """One hit or miss, kept in the case timeline so a coordinator sees why."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    outcome: Outcome
    reason_fr: str
    # Short facts the rule used; no more patient data than needed.
    evidence: dict[str, str] = Field(default_factory=dict)
