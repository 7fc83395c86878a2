"""The decision the sender is told, from the rules' outcome and the parser's errors (pure).

Shared by the daemon (``flow.CaseFlow.decide``) and ``aiguilleur check`` so the dry run
says exactly what the daemon would do.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from parsers.request import Problem
from rules.engine import DecisionOutcome, Evaluation

__all__ = ["NOT_CONFIGURED", "FinalDecision", "final_decision"]

NOT_CONFIGURED = "non configuré"  # evidence of patient_in_territory without a territory


class FinalDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: DecisionOutcome  # what the sender is told
    rules_outcome: DecisionOutcome  # what the rules alone said
    reasons_fr: list[str]
    # Eligible by the rules but a required field is absent: routing waits for the complement.
    held: bool = False
    # Failed only because our own configuration is missing: a coordinator decides.
    escalate_reason_fr: str | None = None


def final_decision(evaluation: Evaluation, blocking: Sequence[Problem]) -> FinalDecision:
    """Rejected and ineligible stand; otherwise parse errors make the request incomplete."""
    rules_outcome = evaluation.decision.outcome
    reasons = list(evaluation.reasons_fr)
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
