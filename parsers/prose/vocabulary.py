"""The concept vocabulary (``data/vocabulary.toml``), loaded once into typed specs."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from parsers.data import load_toml
from parsers.text import fold

__all__ = ["VOCABULARY_ENV", "Concept", "Vocabulary", "vocabulary"]

# A structure's own vocabulary file replaces the shipped one (same shape).
VOCABULARY_ENV = "AIGUILLEUR_VOCABULARY"


@dataclass(frozen=True)
class Concept:
    key: str
    paths: tuple[str, ...]  # the Request fields it fills (several: "aucune difficulté sociale")
    value: bool  # the value when asserted
    terms: tuple[str, ...]
    regex: tuple[str, ...]
    negatable: bool
    void: tuple[str, ...]  # folded words that turn the mention into its opposite
    requires: tuple[str, ...]  # folded words, one of which must be in the sentence
    label_fr: str
    fuzzy: bool  # also matched with one typo or so (long terms only)
    # A sentence that is the term alone ("MT", "Situation : MT") counts as evidence; false
    # where a bare word would lead to a refusal without saying anything of the patient.
    bare_counts: bool = True


@dataclass(frozen=True)
class Vocabulary:
    concepts: dict[str, Concept]
    hypothesis_following: tuple[str, ...]
    hypothesis_preceding: tuple[str, ...]
    negation_following: tuple[str, ...]
    negation_preceding: tuple[str, ...]
    family_history: tuple[str, ...]


def _strings(entry: dict[str, Any], name: str, *, folded: bool = False) -> tuple[str, ...]:
    values = [str(v) for v in entry.get(name, [])]
    return tuple(fold(v, drop_parens=False) for v in values) if folded else tuple(values)


def _load(data: dict[str, Any]) -> Vocabulary:
    concepts: dict[str, Concept] = {}
    for entry in data.get("concepts", []):
        key = str(entry["key"])
        concepts[key] = Concept(
            key=key,
            paths=tuple(str(p) for p in entry.get("paths", [entry.get("path")]) if p),
            value=bool(entry.get("value", True)),
            terms=_strings(entry, "terms"),
            regex=_strings(entry, "regex"),
            negatable=bool(entry.get("negatable", True)),
            void=_strings(entry, "void", folded=True),
            requires=_strings(entry, "requires", folded=True),
            label_fr=str(entry.get("label_fr", key)),
            fuzzy=bool(entry.get("fuzzy", False)),
            bare_counts=bool(entry.get("bare_counts", True)),
        )
    qualifiers: dict[str, Any] = data.get("qualifiers", {})
    return Vocabulary(
        concepts=concepts,
        hypothesis_following=_strings(qualifiers, "hypothesis_following"),
        hypothesis_preceding=_strings(qualifiers, "hypothesis_preceding"),
        negation_following=_strings(qualifiers, "negation_following"),
        negation_preceding=_strings(qualifiers, "negation_preceding"),
        family_history=_strings(qualifiers, "family_history", folded=True),
    )


@cache
def vocabulary() -> Vocabulary:
    override = os.environ.get(VOCABULARY_ENV)
    if override:
        return _load(tomllib.loads(Path(override).read_text(encoding="utf-8")))
    return _load(load_toml("vocabulary.toml"))
