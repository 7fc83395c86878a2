""" "Nous avons compris : ..." — one French line of what the request was read to say."""

from __future__ import annotations

from datetime import date

from gateway.replies.understood import understood_fr
from parsers.request import Provenance, Request

ON = date(2026, 6, 1)


def test_the_facts_a_decision_rests_on() -> None:
    request = Request()
    request.patient.sex = "F"
    request.patient.birth_date = date(1950, 1, 10)
    request.patient.city = "Gérardmer"
    request.patient.postal_code = "88400"
    request.patient.has_medecin_traitant = False
    request.situation.ald = [8]
    request.situation.ald_declared = True
    request.provenance["situation.ald"] = Provenance(
        source="body",
        kind="body",
        locator="ligne 3",
        raw="Elle est en ALD 8 (diabète).",
        span="ALD 8",
    )
    assert understood_fr(request, ON) == (
        "patiente de 76 ans, en ALD (diabète), sans médecin traitant, résidant à Gérardmer (88400)."
    )


def test_denials_and_a_postal_code_alone() -> None:
    request = Request()
    request.patient.age_months = 14
    request.patient.postal_code = "88160"
    request.situation.ald_declared = False
    request.situation.arret_travail = False
    request.reporter.declared_role = "family"
    assert understood_fr(request, ON) == (
        "patient(e) de 14 mois, sans ALD, pas en arrêt de travail, code postal 88160, "
        "demande écrite par un proche."
    )


def test_nothing_understood_says_nothing() -> None:
    assert understood_fr(Request(), ON) is None
