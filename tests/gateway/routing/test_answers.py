"""A doctor's reply to an offer: accept, refuse or ambiguous."""

from __future__ import annotations

import pytest

from gateway.routing.answers import classify_answer, own_text

QUOTE_FR = (
    "\n\nLe lun. 9 mars 2026 à 10:02, Aiguilleur <cpts@cpts-test.mssante.fr> a\n"
    "écrit :\n> Répondez ACCEPTE ou REFUSE.\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Accept, in the forms doctors write.
        ("ACCEPTE", "accept"),
        ("accepte", "accept"),
        ("Accepté.", "accept"),
        ("J'accepte", "accept"),
        ("J’accepte volontiers, merci.", "accept"),
        ("OK pour moi", "accept"),
        ("ok", "accept"),
        ("D'accord", "accept"),
        ("d’accord, envoyez-moi le dossier", "accept"),
        ("Oui je prends", "accept"),
        ("Bonjour,\nje prends ce patient.\nBien cordialement", "accept"),
        ("Je le prends", "accept"),
        ("Avec plaisir", "accept"),
        ("Ça marche", "accept"),
        ("Oui.", "accept"),
        # Refuse.
        ("REFUSE", "refuse"),
        ("Refusé", "refuse"),
        ("Je refuse, désolé", "refuse"),
        ("Non merci", "refuse"),
        ("non", "refuse"),
        ("Pas possible en ce moment", "refuse"),
        ("Je suis complet", "refuse"),
        ("Désolée, patientèle complète", "refuse"),
        ("Je ne peux pas", "refuse"),
        ("Je ne peux malheureusement pas le prendre", "refuse"),
        ("Je n'accepte plus de nouveaux patients", "refuse"),
        ("je ne prends plus de nouveaux patients", "refuse"),
        ("Pas d'accord", "refuse"),
        ("Impossible", "refuse"),
        ("Indisponible jusqu'en avril", "refuse"),
        # Both, or neither: a coordinator reads it.
        ("Oui ou non ?", "ambiguous"),
        ("Accepte si possible, sinon refuse", "ambiguous"),
        ("Bonjour, pouvez-vous m'appeler ?", "ambiguous"),
        ("", "ambiguous"),
        ("Je vous rappelle demain.", "ambiguous"),
        # Quoted original ignored.
        ("ACCEPTE" + QUOTE_FR, "accept"),
        ("Non merci" + QUOTE_FR, "refuse"),
        ("Merci" + QUOTE_FR, "ambiguous"),
        ("> ACCEPTE\n> REFUSE\nJe refuse", "refuse"),
        ("Ok\n-----Original Message-----\nREFUSE ou ACCEPTE", "accept"),
        ("Ok\n-----Message d'origine-----\nREFUSE", "accept"),
        ("Non\n\nDe : CPTS\nEnvoyé : lundi 9 mars 2026\nÀ : Dr X\nObjet : accepte ?", "refuse"),
        ("Accepté\n\nOn Mon, Mar 9, 2026 at 10:02 AM CPTS <a@b.fr> wrote:\n> REFUSE", "accept"),
        ("Accepte\n-- \nDr X\nNe pas répondre si refus", "accept"),
    ],
)
def test_classify_answer(text: str, expected: str) -> None:
    assert classify_answer(text) == expected


def test_own_text_drops_quotes_and_keeps_words() -> None:
    assert own_text("Je prends." + QUOTE_FR).strip() == "je prends."
    assert own_text("ligne 1\n> cité\nligne 2") == "ligne 1\nligne 2"


def test_le_at_line_start_without_wrote_is_kept() -> None:
    text = "Le patient peut venir lundi,\nje l'accepte."
    assert classify_answer(text) == "accept"
