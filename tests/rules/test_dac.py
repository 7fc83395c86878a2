"""Demande d'appui DAC: complexity (medical AND psycho-social) and who may ask."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.request import RequestKind
from rules import dac_complexity, dac_requester
from rules.base import NoParams
from rules.engine import evaluate
from rules.programmes import load_programmes
from rules.result import Outcome
from tests.rules.factories import context, request

DAC = RequestKind.APPUI_DAC

MEDICAL = ["polypathologie", "pathologie_desequilibree", "hospitalisations_repetees"]
SOCIAL = [
    "isolement_social",
    "vulnerabilite_sociale",
    "pratiques_inadaptees",
    "dependance_multi_acteurs",
]


@pytest.mark.parametrize("medical", MEDICAL)
@pytest.mark.parametrize("social", SOCIAL)
def test_every_pair_of_criteria_passes(medical: str, social: str) -> None:
    req = request(DAC, situation={medical: True, social: True})
    assert dac_complexity.check(req, context(), NoParams()).outcome is Outcome.PASSED


NO_SOCIAL = {
    "isolement_social": False,
    "vulnerabilite_sociale": False,
    "pratiques_inadaptees": False,
    "dependance_multi_acteurs": False,
}
NO_MEDICAL = {
    "polypathologie": False,
    "pathologie_desequilibree": False,
    "hospitalisations_repetees": False,
}


@pytest.mark.parametrize(
    ("situation", "expected", "lacking"),
    [
        # One kind stated, the other unsaid: asked for, never refused (no evidence).
        ({"polypathologie": True}, Outcome.MISSING, None),
        ({"polypathologie": True, "isolement_social": False}, Outcome.MISSING, None),
        ({"vulnerabilite_sociale": True}, Outcome.MISSING, None),
        ({"polypathologie": False, "isolement_social": False}, Outcome.MISSING, None),
        ({}, Outcome.MISSING, None),
        ({"ald": [8, 13], "isolement_social": True}, Outcome.PASSED, None),  # plusieurs ALD
        ({"ald": [8], "isolement_social": True}, Outcome.MISSING, None),
        ({"ald": [8, 13]}, Outcome.MISSING, None),
        # The other kind answered "no" criterion by criterion: evidence, so refused.
        ({"polypathologie": True} | NO_SOCIAL, Outcome.FAILED, "psycho-social"),
        ({"vulnerabilite_sociale": True} | NO_MEDICAL, Outcome.FAILED, "médical"),
        ({"ald": [8, 13]} | NO_SOCIAL, Outcome.FAILED, "psycho-social"),
        ({"ald": [8], "isolement_social": True} | NO_MEDICAL, Outcome.FAILED, "médical"),
    ],
)
def test_one_kind_only(situation: dict[str, Any], expected: Outcome, lacking: str | None) -> None:
    result = dac_complexity.check(request(DAC, situation=situation), context(), NoParams())
    assert result.outcome is expected
    if lacking is not None:
        assert f"critère {lacking}" in result.reason_fr


def test_medical_only_explains_the_missing_kind() -> None:
    situation = {"polypathologie": True, "hospitalisations_repetees": True} | NO_SOCIAL
    req = request(DAC, situation=situation)
    result = dac_complexity.check(req, context(), NoParams())
    assert result.outcome is Outcome.FAILED
    assert "psycho-social" in result.reason_fr
    assert "critère médical (" not in result.reason_fr
    assert result.evidence["criteres_medicaux"] == "polypathologie, hospitalisations_repetees"
    assert result.evidence["criteres_psycho_sociaux"] == "aucun"


@pytest.mark.parametrize(
    ("reporter", "sender", "notify"),
    [
        ({"declared_role": "professional"}, {}, "non"),
        ({"declared_role": "patient"}, {}, "oui"),
        ({"declared_role": "family"}, {}, "oui"),
        ({"declared_role": None, "email": "1@patient.mssante.fr"}, {}, "oui"),
        ({"declared_role": None}, {"is_patient_mailbox": True}, "oui"),
    ],
)
def test_requester_always_accepted_with_flag(
    reporter: dict[str, Any], sender: dict[str, Any], notify: str
) -> None:
    result = dac_requester.check(
        request(DAC, reporter=reporter),
        context(sender=sender),
        dac_requester.DacRequesterParams(),
    )
    assert result.outcome is Outcome.PASSED
    assert result.evidence[dac_requester.NOTIFY_MT] == notify


COMPLEX = {"pathologie_desequilibree": True, "isolement_social": True}


@pytest.mark.parametrize(
    ("case", "situation", "reporter", "decision", "notify"),
    [
        ("professional", COMPLEX, {}, "eligible", False),
        ("family asks", COMPLEX, {"declared_role": "family"}, "eligible", True),
        (
            "medical only, social denied",
            {"polypathologie": True} | NO_SOCIAL,
            {},
            "ineligible",
            False,
        ),
        ("medical only, social unsaid", {"polypathologie": True}, {}, "incomplete", False),
        ("nothing stated", {}, {"declared_role": "patient"}, "incomplete", True),
    ],
)
def test_dac_programme(
    case: str, situation: dict[str, Any], reporter: dict[str, Any], decision: str, notify: bool
) -> None:
    evaluation = evaluate(
        load_programmes()["appui_dac"],
        request(DAC, situation=situation, reporter=reporter),
        context(),
    )
    assert evaluation.decision.outcome == decision, case
    assert evaluation.decision.notify_medecin_traitant is notify
