"""Signalement: every criterion and boundary, table-driven, rule by rule and end to end."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from parsers.request import RequestKind
from rules import (
    no_medecin_traitant,
    patient_in_territory,
    reporter_is_professional,
    sender_verified,
    situation_eligible,
)
from rules.engine import evaluate
from rules.programmes import programmes_from_mapping
from rules.result import Outcome
from tests.rules.factories import REQUEST_DATE, context, request

ON = REQUEST_DATE  # 2026-03-01
SIT = situation_eligible.SituationParams()


# Every criterion but age answered "no": the only way a situation is refused.
NONE = {"ald_declared": False, "arret_travail": False, "sortie_hospitalisation": False}


@pytest.mark.parametrize(
    ("case", "patient", "situation", "expected"),
    [
        ("exactly 70", {"birth_date": date(1956, 3, 1)}, NONE, Outcome.FAILED),
        # No refusal without evidence: criteria left unsaid are asked for.
        ("exactly 70, nothing said", {"birth_date": date(1956, 3, 1)}, {}, Outcome.MISSING),
        (
            "69, ALD unsaid",
            {"birth_date": date(1957, 1, 1)},
            NONE | {"ald_declared": None},
            Outcome.MISSING,
        ),
        ("stated age 76", {"age_years": 76}, {}, Outcome.PASSED),
        ("stated age 70: either side of the limit", {"age_years": 70}, NONE, Outcome.MISSING),
        ("stated age 69", {"age_years": 69}, NONE, Outcome.FAILED),
        ("stated age 45, nothing said", {"age_years": 45}, {}, Outcome.MISSING),
        ("stated 14 months", {"age_months": 14}, {}, Outcome.PASSED),
        ("stated 1 year old", {"age_years": 1}, NONE, Outcome.MISSING),
        ("70 + 1 day", {"birth_date": date(1956, 2, 28)}, {}, Outcome.PASSED),
        ("69", {"birth_date": date(1957, 1, 1)}, NONE, Outcome.FAILED),
        ("born 29 Feb, 70 on 28 Feb", {"birth_date": date(1956, 2, 29)}, {}, Outcome.PASSED),
        ("exactly 18 months", {"birth_date": date(2024, 9, 1)}, {}, Outcome.PASSED),
        ("18 months + 1 day", {"birth_date": date(2024, 8, 31)}, NONE, Outcome.FAILED),
        ("newborn", {"birth_date": date(2026, 2, 20)}, {}, Outcome.PASSED),
        ("born on the request date", {"birth_date": ON}, {}, Outcome.PASSED),
        ("adult with ALD", {"birth_date": date(1980, 1, 1)}, {"ald": [8]}, Outcome.PASSED),
        (
            "arrêt de travail",
            {"birth_date": date(1980, 1, 1)},
            {"arret_travail": True},
            Outcome.PASSED,
        ),
        (
            "sortie d'hospitalisation",
            {"birth_date": date(1980, 1, 1)},
            {"sortie_hospitalisation": True},
            Outcome.PASSED,
        ),
        (
            "adult, every flag false",
            {"birth_date": date(1980, 1, 1)},
            NONE,
            Outcome.FAILED,
        ),
        ("no birth date, nothing else", {}, {}, Outcome.MISSING),
        ("no birth date, flags false", {}, {"arret_travail": False}, Outcome.MISSING),
        ("no birth date but ALD", {}, {"ald": [30]}, Outcome.PASSED),
        ("birth date after request", {"birth_date": date(2026, 3, 2)}, {}, Outcome.MISSING),
    ],
)
def test_situation(
    case: str, patient: dict[str, Any], situation: dict[str, Any], expected: Outcome
) -> None:
    result = situation_eligible.check(request(patient=patient, situation=situation), context(), SIT)
    assert result.outcome is expected, case
    assert result.rule_id == "situation_eligible"
    assert result.evidence["date_reference"] == "2026-03-01"


def test_ald_ticked_without_number_counts() -> None:
    req = request(situation={"ald_declared": True})
    assert situation_eligible.check(req, context(), SIT).outcome is Outcome.PASSED


def test_situation_age_uses_context_date_not_request_field() -> None:
    req = request(patient={"birth_date": date(1956, 3, 1)})
    later = context(on=date(2026, 3, 2))
    assert situation_eligible.check(req, later, SIT).outcome is Outcome.PASSED


def test_situation_evidence_is_age_not_birth_date() -> None:
    result = situation_eligible.check(
        request(patient={"birth_date": date(1950, 6, 1)}), context(), SIT
    )
    assert result.evidence["age"] == "75 ans"
    assert "1950" not in " ".join(result.evidence.values())
    child = situation_eligible.check(
        request(patient={"birth_date": date(2025, 3, 1)}), context(), SIT
    )
    assert child.evidence["age"] == "12 mois"


def test_situation_params_are_configurable() -> None:
    params = situation_eligible.SituationParams(
        criteria=frozenset({situation_eligible.SituationCriterion.AGE_ELDER}), older_than_years=75
    )
    ald_only = request(patient={"birth_date": date(1980, 1, 1)}, situation={"ald": [8]})
    assert situation_eligible.check(ald_only, context(), params).outcome is Outcome.FAILED
    old = request(patient={"birth_date": date(1950, 1, 1)})
    assert situation_eligible.check(old, context(), params).outcome is Outcome.PASSED
    assert "75 ans" in situation_eligible.check(ald_only, context(), params).reason_fr


TERRITORY = patient_in_territory.TerritoryParams(
    insee_codes=frozenset({"88160", "2A004"}), postal_codes=frozenset({"88100"})
)


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        ({"insee_code": "88160"}, Outcome.PASSED),
        ({"insee_code": "2a004"}, Outcome.PASSED),  # Corsica, case-insensitive
        ({"postal_code": "88100"}, Outcome.PASSED),
        ({"insee_code": "75056", "postal_code": "88100"}, Outcome.PASSED),
        ({"insee_code": "75056"}, Outcome.FAILED),  # outside the territory
        ({"postal_code": "75007"}, Outcome.FAILED),
        ({}, Outcome.MISSING),
        ({"postal_code": "  "}, Outcome.MISSING),
    ],
)
def test_territory(patient: dict[str, Any], expected: Outcome) -> None:
    result = patient_in_territory.check(request(patient=patient), context(), TERRITORY)
    assert result.outcome is expected


def test_unconfigured_territory_fails_visibly() -> None:
    result = patient_in_territory.check(
        request(patient={"postal_code": "88100"}),
        context(),
        patient_in_territory.TerritoryParams(),
    )
    assert result.outcome is Outcome.FAILED
    assert result.evidence == {"territoire": "non configuré"}


REPORTER = reporter_is_professional.ReporterParams()


@pytest.mark.parametrize(
    ("reporter", "sender", "expected"),
    [
        ({"declared_role": "professional", "email": "dr@medecin.mssante.fr"}, {}, Outcome.PASSED),
        ({"declared_role": None}, {}, Outcome.PASSED),
        ({"declared_role": "patient"}, {}, Outcome.FAILED),
        ({"declared_role": "family"}, {}, Outcome.FAILED),
        ({"email": "279035121518989@patient.mssante.fr"}, {}, Outcome.FAILED),
        ({"email": "X@Patient.MSSante.fr"}, {}, Outcome.FAILED),
        ({}, {"is_patient_mailbox": True}, Outcome.FAILED),
    ],
)
def test_reporter(reporter: dict[str, Any], sender: dict[str, Any], expected: Outcome) -> None:
    result = reporter_is_professional.check(
        request(reporter=reporter), context(sender=sender), REPORTER
    )
    assert result.outcome is expected


def test_reporter_refusal_is_polite_and_says_where_to_turn() -> None:
    result = reporter_is_professional.check(
        request(reporter={"declared_role": "patient"}), context(), REPORTER
    )
    assert "professionnel" in result.reason_fr
    assert "invitons" in result.reason_fr


@pytest.mark.parametrize(
    ("patient", "params", "expected"),
    [
        ({"has_medecin_traitant": False}, {}, Outcome.PASSED),
        ({"has_medecin_traitant": True}, {}, Outcome.FAILED),
        ({"medecin_traitant": "Dr Martin"}, {}, Outcome.FAILED),
        ({}, {}, Outcome.PASSED),
        ({}, {"assume_absent_when_unstated": False}, Outcome.MISSING),
    ],
)
def test_no_medecin_traitant(
    patient: dict[str, Any], params: dict[str, Any], expected: Outcome
) -> None:
    result = no_medecin_traitant.check(
        request(patient=patient),
        context(),
        no_medecin_traitant.NoMedecinTraitantParams(**params),
    )
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("verified", "policy", "expected"),
    [
        (True, "reject", Outcome.PASSED),
        (True, "accept", Outcome.PASSED),
        (False, "accept", Outcome.PASSED),
        (False, "reject", Outcome.FAILED),
    ],
)
def test_sender_verified(verified: bool, policy: str, expected: Outcome) -> None:
    params = sender_verified.SenderVerifiedParams.model_validate({"policy": policy})
    result = sender_verified.check(request(), context(sender={"verified": verified}), params)
    assert result.outcome is expected
    assert result.evidence["verifie"] == ("oui" if verified else "non")


# End to end through the programme, with a CPTS territory.
PROGRAMMES = programmes_from_mapping(
    {"signalement": {"params": {"patient_in_territory": {"postal_codes": ["88100"]}}}}
)
ELIGIBLE: dict[str, Any] = {"birth_date": date(1950, 1, 1), "postal_code": "88100"}


@pytest.mark.parametrize(
    ("case", "patient", "reporter", "sender", "decision"),
    [
        ("eligible", ELIGIBLE, {}, {}, "eligible"),
        ("exactly 70", ELIGIBLE | {"birth_date": date(1956, 3, 1)}, {}, {}, "incomplete"),
        ("outside territory", ELIGIBLE | {"postal_code": "75007"}, {}, {}, "ineligible"),
        ("no birth date", {"postal_code": "88100"}, {}, {}, "incomplete"),
        ("patient sender", ELIGIBLE, {"declared_role": "patient"}, {}, "rejected"),
        ("patient mailbox", ELIGIBLE, {}, {"is_patient_mailbox": True}, "rejected"),
    ],
)
def test_signalement_programme(
    case: str,
    patient: dict[str, Any],
    reporter: dict[str, Any],
    sender: dict[str, Any],
    decision: str,
) -> None:
    req = request(RequestKind.SIGNALEMENT, patient=patient, reporter=reporter)
    evaluation = evaluate(PROGRAMMES["signalement"], req, context(sender=sender))
    assert evaluation.decision.outcome == decision, case
    assert [r.rule_id for r in evaluation.results] == list(PROGRAMMES["signalement"].rule_ids)
