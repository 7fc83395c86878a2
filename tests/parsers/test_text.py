from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import text
from parsers.text import fold


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("N° INS", "n ins"),
        ("Médecin traitant (déclaré)", "medecin traitant"),
        ("Nom (de (naissance)) :", "nom"),
        ("CŒUR ÉLÈVE", "coeur eleve"),
        ("São Tomé", "sao tome"),
    ],
)
def test_fold_reads_labels_as_written_in_forms(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_parentheses_are_kept_when_asked() -> None:
    assert fold("ALD (oui)", drop_parens=False) == "ald oui"


@given(st.text(max_size=400), st.booleans())
def test_a_remembered_fold_is_the_fold(raw: str, drop_parens: bool) -> None:
    fold(raw, drop_parens=drop_parens)  # the second call may come from the cache
    assert fold(raw, drop_parens=drop_parens) == text._fold(raw, drop_parens)


def test_long_text_is_folded_but_never_kept() -> None:
    text._fold_short.cache_clear()
    fold("Signalement (urgent)")
    long = "Patiente de 82 ans, sortie d'hospitalisation. " * 100  # prose, or hostile input
    assert fold(long).startswith("patiente de 82 ans")
    assert text._fold_short.cache_info().currsize == 1
