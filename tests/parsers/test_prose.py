"""The French clinical-text layer: what people write in prose, read with its provenance."""

from __future__ import annotations

import time
from datetime import date

import pytest

from parsers import parse_message
from parsers.prose import warm_up
from parsers.request import Request, RequestKind
from tests.parsers.builders import build_mail

PRO = "claire.colin@infirmier.mssante.fr"


def parse(
    body: str,
    *,
    sender: str = PRO,
    subject: str = "Demande",
    kind: RequestKind = RequestKind.SIGNALEMENT,
) -> Request:
    raw = build_mail(subject=subject, body=body, sender=sender)
    return parse_message(raw, default_kind=kind).request


# -- Identities -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "family", "given", "birth", "postal", "city"),
    [
        (
            "Patient : PIERRAT Marcel, né le 12 mars 1950, INS 279035121518989",
            "PIERRAT",
            "Marcel",
            date(1950, 3, 12),
            None,
            None,
        ),
        (
            "Je vous signale Mme Jeanne THIRIET, née le 02/03/1948, domiciliée 3 rue du Lac "
            "88400 Gérardmer.",
            "THIRIET",
            "Jeanne",
            date(1948, 3, 2),
            "88400",
            "Gérardmer",
        ),
        (
            "Patient(e) : COLIN Alain, né le 26-06-54\nAdresse - 12 rue de la Gare\n"
            "CP/Ville - 88160 Fresse-sur-Moselle",
            "COLIN",
            "Alain",
            date(1954, 6, 26),
            "88160",
            "Fresse-sur-Moselle",
        ),
        (
            "Il s'agit de Mr André Humbert, (31 OCTOBRE 1940), qui habite 22 rue des Jardiniers "
            "à Granges-Aumontzey (88640).",
            "Humbert",
            "André",
            date(1940, 10, 31),
            "88640",
            "Granges-Aumontzey",
        ),
        (
            "Personne concernée : l'enfant DEMANGE Alba, (DDN 29/04/2025), domiciliée au Thillot.",
            "DEMANGE",
            "Alba",
            date(2025, 4, 29),
            None,
            "Le Thillot",
        ),
    ],
)
def test_identity_in_one_line_or_a_sentence(
    body: str,
    family: str,
    given: str,
    birth: date,
    postal: str | None,
    city: str | None,
) -> None:
    patient = parse(body).patient
    assert patient.family_name == family
    assert patient.given_names[:1] == [given]
    assert patient.birth_date == birth
    assert patient.postal_code == postal
    assert patient.city == city


def test_identity_in_the_subject() -> None:
    request = parse(
        "Bonjour, cf objet.\nALD : oui\n",
        subject="Signalement : Monsieur GEORGEL Florian - 15-03-72 - 88640 Granges-Aumontzey",
    )
    assert request.patient.family_name == "GEORGEL"
    assert request.patient.birth_date == date(1972, 3, 15)
    assert request.patient.postal_code == "88640"
    assert request.provenance["patient.family_name"].source == "objet"


def test_an_age_in_words_and_the_street_is_not_a_birth_date() -> None:
    patient = parse(
        "Mme Jeanne Thiriet, 76 ans, domiciliée 16 rue du 8 Mai 1945 88250 La Bresse."
    ).patient
    assert patient.age_years == 76
    assert patient.birth_date is None
    assert patient.postal_code == "88250"
    assert patient.sex == "F"


def test_titles_and_identifiers_in_prose() -> None:
    request = parse(
        "Bonjour,\nJe vous signale M. Paul Durand, né le 01/02/1950.\n\n"
        "Cordialement,\nDr Paul Voirin (RPPS 10100000029)\n"
    )
    assert request.reporter.rpps == "10100000029"
    assert request.reporter.family_name == "Voirin"
    assert request.reporter.given_name == "Paul"


# -- Criteria, negation, hypothesis, family ---------------------------------------------------
def test_criteria_in_the_situation_line() -> None:
    request = parse("Nom : DUPONT\nSituation : ALD 8 (diabète), sortie d'hospitalisation le 10/06")
    assert request.situation.ald == [8]
    assert request.situation.ald_declared is True
    assert request.situation.sortie_hospitalisation is True
    provenance = request.provenance["situation.sortie_hospitalisation"]
    assert provenance.span == "sortie d'hospitalisation"
    assert provenance.qualifiers == []


def test_negated_statements_are_evidence_of_no() -> None:
    request = parse("La patiente n'est pas en arrêt de travail. Pas d'hospitalisation récente.")
    assert request.situation.arret_travail is False
    assert request.situation.sortie_hospitalisation is False
    assert "négation" in request.provenance["situation.arret_travail"].qualifiers


@pytest.mark.parametrize(
    "value",
    ["aucune", "Aucune", "non", "néant", "☐ Patient en ALD", "pas d'ALD"],
)
def test_ald_answered_no(value: str) -> None:
    assert parse(f"Nom : DUPONT\nALD : {value}\n").situation.ald_declared is False


def test_a_pending_ald_or_a_relatives_history_is_no_evidence() -> None:
    request = parse("Une demande d'ALD est en cours. Antécédents familiaux : ALD chez la mère.\n")
    assert request.situation.ald_declared is None
    assert request.situation.ald == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Médecin traitant : Dr Mougin, parti à la retraite, non remplacé",
        "Elle n'a plus de médecin traitant depuis le départ en retraite du Dr Voirin.",
        "Il est toujours à la recherche d'un médecin traitant.",
        "Pas de médecin traitent.",  # a typo, read by the fuzzy pass
    ],
)
def test_no_medecin_traitant_today(sentence: str) -> None:
    assert parse(sentence).patient.has_medecin_traitant is False


def test_consent_in_a_sentence() -> None:
    te = RequestKind.TELE_EXPERTISE
    assert parse("Le patient a donné son accord.", kind=te).tele_expertise.consent is True
    assert parse("Accord oral recueilli le 12/06.", kind=te).tele_expertise.consent is True
    refused = parse("La patiente ne souhaite pas de télé-expertise.", kind=te)
    assert refused.tele_expertise.consent is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "3 hospitalisations depuis janvier pour décompensation cardiaque. Vit seul, refuse "
            "les aides. Aidant épuisé.",
            {
                "hospitalisations_repetees": True,
                "isolement_social": True,
                "dependance_multi_acteurs": True,
            },
            id="dac_complexity_in_prose",
        ),
        pytest.param(
            "Mme Léa Lambert, 60 ans, polypathologique.\n\nCordialement,\nIsabelle Rémond\n"
            "Infirmière coordinatrice SSIAD, aide à domicile\n",
            {"polypathologie": True, "dependance_multi_acteurs": None},
            id="a_signature_is_not_the_patients_situation",
        ),
    ],
)
def test_dac_situation_in_prose(body: str, expected: dict[str, bool | None]) -> None:
    situation = parse(body, kind=RequestKind.APPUI_DAC).situation
    for name, value in expected.items():
        assert getattr(situation, name) is value, name


def test_a_sentence_and_a_label_that_disagree_are_both_kept() -> None:
    request = parse("ALD : non\nElle bénéficie de l'ALD 7 pour une infection à VIH.\n")
    fields = {c.field for c in request.conflicts}
    assert "situation.ald_declared" in fields


# -- Filières and who writes ---------------------------------------------------------------------
def test_an_unknown_filiere_is_kept_to_be_refused_clearly() -> None:
    te = parse("Filière : Angiologie\n", kind=RequestKind.TELE_EXPERTISE).tele_expertise
    assert te.filiere == "angiologie"
    assert te.filiere_label == "Angiologie"


def test_a_filiere_in_prose_only_where_it_is_asked_for() -> None:
    te = RequestKind.TELE_EXPERTISE
    asked = parse("Je sollicite un avis dermatologique pour une lésion.", kind=te)
    assert asked.tele_expertise.filiere == "dermatologie"
    signature = parse("Merci.\n\nCordialement,\nDr Luc Hingray\nMédecin généraliste\n", kind=te)
    assert signature.tele_expertise.filiere is None


@pytest.mark.parametrize(
    ("body", "sender", "role"),
    [
        ("Bonjour, je vous écris pour ma mère, Mme Jeanne Thiriet.", "s.t@gmail.com", "family"),
        ("Je suis sa fille et elle n'a plus de médecin.", PRO, "family"),
        ("Cordialement,\nSophie, fille de la patiente", "s.t@gmail.com", "family"),
        ("Cordialement,\nSophie, fille de la patiente", PRO, "professional"),
        ("Je m'appelle Danielle Grandemange, j'habite à Vagney.", "d.g@sfr.fr", "patient"),
    ],
)
def test_who_is_writing(body: str, sender: str, role: str) -> None:
    assert parse(body, sender=sender).reporter.declared_role == role


def test_an_ins_from_a_patient_mailbox() -> None:
    request = parse("Bonjour", sender="279035121518989@patient.mssante.fr")
    assert request.patient.ins == "279035121518989"


@pytest.mark.parametrize(
    "body",
    ["a" * 150_000 + "\n" + "(" * 50_000, "(" * 100_000, "Nom (" * 30_000],
    ids=["long-line-then-parens", "parens", "label-parens"],
)
def test_unclosed_parentheses_stay_linear(body: str) -> None:
    # Folding once rescanned to the end from every "(": 50,000 of them took 10 s. A hang guard
    # like the corpus test's, not a benchmark: the pipeline loads first, outside the bound.
    warm_up()
    started = time.process_time()
    parse(body)
    assert time.process_time() - started < 5.0


# -- A bare "MT" is no evidence of a médecin traitant ------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Situation : MT\n\nCordialement,\nClaire Colin, IDE", None),
        ("MT\n\nCordialement,\nClaire Colin, IDE", None),  # and the sign-off is not its name
        ("Le patient a un MT depuis 2010.", True),
        ("Pas de MT depuis le départ du Dr Morel.", False),
        ("MT\nDr Dupont", True),
    ],
)
def test_medecin_traitant_needs_more_than_the_word(text: str, expected: bool | None) -> None:
    request = parse(f"Bonjour,\n\nNom : THIRIET\nPrénom : Jeanne\n\n{text}\n")
    assert request.patient.has_medecin_traitant is expected
    assert request.patient.medecin_traitant in (None, "Dr Dupont")
