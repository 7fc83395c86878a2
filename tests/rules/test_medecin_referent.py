"""Médecin référent (Luxembourg): an ALD from the configured list, DSP activated."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.request import RequestKind
from rules import ald_in_list, dsp_active
from rules.base import NoParams
from rules.engine import evaluate
from rules.programmes import programmes_from_mapping
from rules.result import Outcome
from tests.rules.factories import YES_NO_OUTCOMES, context, request

MR = RequestKind.MEDECIN_REFERENT


@pytest.mark.parametrize(
    ("ald", "allowed", "expected"),
    [
        ([1], None, Outcome.PASSED),
        ([32], None, Outcome.PASSED),
        ([33], None, Outcome.FAILED),  # not in the list of 32
        ([0, 40], None, Outcome.FAILED),
        ([40, 8], None, Outcome.PASSED),
        ([], None, Outcome.MISSING),
        ([8], frozenset({1, 2, 3}), Outcome.FAILED),  # configured list
        ([2], frozenset({1, 2, 3}), Outcome.PASSED),
    ],
)
def test_ald_in_list(ald: list[int], allowed: frozenset[int] | None, expected: Outcome) -> None:
    params = (
        ald_in_list.AldListParams()
        if allowed is None
        else ald_in_list.AldListParams(ald_list=allowed)
    )
    result = ald_in_list.check(request(MR, situation={"ald": ald}), context(), params)
    assert result.outcome is expected


@pytest.mark.parametrize(("active", "expected"), YES_NO_OUTCOMES)
def test_dsp_active(active: bool | None, expected: Outcome) -> None:
    result = dsp_active.check(request(MR, situation={"dsp_active": active}), context(), NoParams())
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("case", "situation", "decision", "codes"),
    [
        ("eligible", {"ald": [5], "dsp_active": True}, "eligible", []),
        ("ALD not in list", {"ald": [40], "dsp_active": True}, "ineligible", ["ald_in_list"]),
        ("DSP not active", {"ald": [5], "dsp_active": False}, "ineligible", ["dsp_active"]),
        ("DSP unknown", {"ald": [5]}, "incomplete", ["dsp_active"]),
        (
            "both wrong",
            {"ald": [40], "dsp_active": False},
            "ineligible",
            ["ald_in_list", "dsp_active"],
        ),
    ],
)
def test_medecin_referent_programme(
    case: str, situation: dict[str, Any], decision: str, codes: list[str]
) -> None:
    programmes = programmes_from_mapping(
        {"medecin_referent": {"params": {"ald_in_list": {"ald_list": list(range(1, 33))}}}}
    )
    evaluation = evaluate(
        programmes["medecin_referent"], request(MR, situation=situation), context()
    )
    assert evaluation.decision.outcome == decision, case
    assert [r.rule_id for r in evaluation.failed + evaluation.missing] == codes
