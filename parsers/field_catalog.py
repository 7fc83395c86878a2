"""The field synonym table (``data/synonyms.toml``): label -> field, with section context."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from parsers.data import load_toml
from parsers.text import fold

__all__ = ["FieldSpec", "field_label_fr", "find_field", "find_section", "is_known_label"]


@dataclass(frozen=True)
class FieldSpec:
    key: str  # the table key, e.g. "patient.no_medecin_traitant"
    path: str  # the Request field it fills
    label_fr: str
    type: str


@dataclass(frozen=True)
class _Catalog:
    specs: dict[str, FieldSpec]
    anywhere: dict[str, FieldSpec]  # folded label -> spec
    in_section: dict[tuple[str, str], FieldSpec]  # (section, folded label) -> spec
    prefixes: dict[str, tuple[tuple[str, FieldSpec], ...]]  # by first word, longest first
    sections: dict[str, str]  # folded heading -> section key
    default_section: str
    # (label, section or None, spec) by length, for typos
    near: dict[int, tuple[tuple[str, str | None, FieldSpec], ...]]


@cache
def _catalog() -> _Catalog:
    data = load_toml("synonyms.toml")
    specs: dict[str, FieldSpec] = {}
    anywhere: dict[str, FieldSpec] = {}
    in_section: dict[tuple[str, str], FieldSpec] = {}
    for key, entry in data["fields"].items():
        spec = FieldSpec(
            key=key,
            path=str(entry.get("target", key)),
            label_fr=str(entry.get("label_fr", key)),
            type=str(entry.get("type", "text")),
        )
        specs[key] = spec
        for label in entry.get("labels", []):
            anywhere.setdefault(fold(label), spec)
        for section, labels in entry.get("in_section", {}).items():
            for label in labels:
                in_section.setdefault((section, fold(label)), spec)
    by_word: dict[str, list[tuple[str, FieldSpec]]] = {}
    for label, spec in sorted(anywhere.items(), key=lambda item: -len(item[0])):
        if " " in label:
            by_word.setdefault(label.split(" ", 1)[0], []).append((label, spec))
    # Most cells of a form name no field: only labels sharing their first word are tried.
    prefixes = {word: tuple(found) for word, found in by_word.items()}
    sections = {
        fold(heading): section
        for section, headings in data["sections"].items()
        for heading in headings
    }
    every: list[tuple[str, str | None, FieldSpec]] = [
        *((label, None, spec) for label, spec in anywhere.items()),
        *((label, section, spec) for (section, label), spec in in_section.items()),
    ]
    near: dict[int, list[tuple[str, str | None, FieldSpec]]] = {}
    for label, section, spec in every:
        if len(label) >= 5:
            for size in (len(label) - 1, len(label), len(label) + 1):
                near.setdefault(size, []).append((label, section, spec))
    return _Catalog(
        specs,
        anywhere,
        in_section,
        prefixes,
        sections,
        str(data.get("default_section", "")),
        {size: tuple(found) for size, found in near.items()},
    )


@lru_cache(maxsize=8192)  # forms repeat their labels; prose lines are tried once each
def find_field(label: str, section: str | None = None) -> FieldSpec | None:
    """The field a label names, if any; section-specific synonyms win."""
    if len(label) > 400:
        return None  # a paragraph, not a label: never fold it
    catalog = _catalog()
    folded = fold(label)
    if not folded or len(folded) > 120:
        return None
    effective = section or catalog.default_section
    spec = catalog.in_section.get((effective, folded))
    if spec is not None:
        return spec
    spec = catalog.anywhere.get(folded)
    if spec is not None:
        return spec
    if effective != catalog.default_section:
        # "Nom" under a "Télé-expertise" heading: the patient's, as on any form.
        spec = catalog.in_section.get((catalog.default_section, folded))
        if spec is not None:
            return spec
    # "Date de naissance du patient" still names the birth date.
    padded = folded + " "
    for prefix, prefix_spec in catalog.prefixes.get(folded.split(" ", 1)[0], ()):
        if padded.startswith(prefix + " "):
            return prefix_spec
    return _near(catalog, folded, effective)


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one substitution, insertion or deletion."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def _near(catalog: _Catalog, folded: str, section: str) -> FieldSpec | None:
    """A typo in a label ("Prenon", "Date de naissace"): one edit away from one field only."""
    if (
        len(folded) < 6
        or len(folded) > 40
        or folded.count(" ") > 3
        or any(c.isdigit() for c in folded)
    ):
        return None  # "ALD 38" is a value, not a typo for the label "ALD 30"
    found = {
        spec.key: spec
        for label, label_section, spec in catalog.near.get(len(folded), ())
        if label_section in (None, section) and _one_edit(label, folded)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def find_section(heading: str) -> str | None:
    """Section key for a heading line ("IDENTITÉ DU PATIENT" -> "patient")."""
    if len(heading) > 300:
        return None
    folded = fold(heading)
    if not folded or len(folded) > 80:
        return None
    return _catalog().sections.get(folded)


def is_known_label(label: str) -> bool:
    return find_field(label) is not None or find_section(label) is not None


def field_label_fr(path: str) -> str:
    spec = _catalog().specs.get(path)
    return spec.label_fr if spec else path
