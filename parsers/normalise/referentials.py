"""Professions (TRE_G15), specialities (TRE_R38), filières, roles and ALD from data files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from parsers.data import load_toml
from parsers.text import fold

__all__ = [
    "ald_numbers",
    "match_filiere",
    "match_profession",
    "match_role",
    "match_speciality",
    "profession_label",
]

Role = Literal["professional", "patient", "family"]


@dataclass(frozen=True)
class _Table:
    exact: dict[str, str]  # folded label -> code
    by_length: tuple[tuple[str, str], ...]  # (folded label, code), longest first

    def find(self, text: str, *, contains: bool = True) -> str | None:
        folded = fold(text)
        if not folded:
            return None
        if folded in self.exact:
            return self.exact[folded]
        if not contains:
            return None
        padded = f" {folded} "
        for label, code in self.by_length:
            if f" {label} " in padded:
                return code
        return None


def _table(mapping: dict[str, list[str]]) -> _Table:
    exact: dict[str, str] = {}
    for code, labels in mapping.items():
        for label in [code, *labels]:
            exact.setdefault(fold(label), code)
    ordered = sorted(exact.items(), key=lambda item: -len(item[0]))
    return _Table(exact, tuple(ordered))


@cache
def _referential(name: str) -> _Table:
    """The label table of one section of referentials.toml ("professions", "roles", ...)."""
    return _table(load_toml("referentials.toml")[name])


@cache
def _other_professionals() -> frozenset[str]:
    labels: list[str] = load_toml("referentials.toml")["other_professionals"]["labels"]
    return frozenset(fold(label) for label in labels)


def match_profession(text: str) -> str | None:
    """TRE_G15 code for a profession as written ("Infirmière libérale" -> "60")."""
    return _referential("professions").find(text)


def profession_label(code: str) -> str | None:
    labels: dict[str, str] = load_toml("referentials.toml")["profession_labels"]
    return labels.get(code)


def is_other_professional(text: str) -> bool:
    folded = fold(text)
    return any(f" {label} " in f" {folded} " for label in _other_professionals())


def match_speciality(text: str) -> str | None:
    """TRE_R38 code: "G15_10/SM54" and "SM54" and "Médecine générale" -> "SM54"."""
    match = re.search(r"\b(S[A-Z]{1,2}\d{2})\b", text.upper())
    if match:
        return match.group(1)
    return _referential("specialities").find(text)


def match_filiere(text: str) -> str | None:
    """The filière's key: an open one ("orl"), else a speciality the CPTS has not opened."""
    return _referential("filieres").find(text) or _referential("other_filieres").find(text)


def match_role(text: str) -> Role | None:
    code = _referential("roles").find(text, contains=False)
    if code in ("professional", "patient", "family"):
        return code  # type: ignore[return-value]
    if match_profession(text) or is_other_professional(text):
        return "professional"
    code = _referential("roles").find(text)
    if code in ("professional", "patient", "family"):
        return code  # type: ignore[return-value]
    return None


@cache
def _ald_keywords() -> tuple[tuple[str, int], ...]:
    table: dict[str, dict[str, object]] = load_toml("ald.toml")["ald"]
    pairs: list[tuple[str, int]] = []
    for number, entry in table.items():
        keywords = entry.get("keywords", [])
        if isinstance(keywords, list):
            pairs.extend((fold(str(k)), int(number)) for k in keywords)
        pairs.append((fold(str(entry.get("label", ""))), int(number)))
    return tuple(sorted((p for p in pairs if p[0]), key=lambda p: -len(p[0])))


_ALD_NUMBER = re.compile(r"\bald\s*(?:n\s*|numero\s*|no\s*)?(\d{1,2})\b")
_BARE_NUMBERS = re.compile(
    r"^(?:(?:n|no|numero|numeros|ald)\s+)*\d{1,2}(?:\s+(?:et\s+|n\s+|ald\s+)*\d{1,2})*"
    r"(?=\s|$)"
)


def ald_numbers(text: str, *, bare_numbers: bool = False) -> list[int]:
    """ALD numbers named in text: "ALD 8", "ALD n°30", "diabète", or "8, 30" in an ALD field."""
    folded = fold(text, drop_parens=False)
    found: list[int] = []
    for match in _ALD_NUMBER.finditer(folded):
        found.append(int(match.group(1)))
    if bare_numbers and (bare := _BARE_NUMBERS.match(folded)):
        found.extend(int(n) for n in re.findall(r"\d{1,2}", bare.group(0)))
    padded = f" {folded} "
    for keyword, number in _ald_keywords():
        if f" {keyword} " in padded:
            found.append(number)
    return sorted({n for n in found if 1 <= n <= 99})  # the list in force decides, not us
