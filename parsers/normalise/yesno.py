"""Yes/no in every form people use: oui/non, x, ☒/☐, coché, [X] oui [ ] non."""

from __future__ import annotations

import re

from parsers.text import TICK_MARKS, TICKED, fold, has_tick

__all__ = ["parse_yes_no"]

_YES = frozenset(
    {
        "oui",
        "o",
        "yes",
        "y",
        "x",
        "vrai",
        "true",
        "1",
        "coche",
        "cochee",
        "ok",
        "accord",
        "d accord",
        "recueilli",
        "recueillie",
        "obtenu",
        "obtenue",
        "present",
        "presente",
        "en cours",
        "on",
        "selectionne",
    }
)
_NO = frozenset(
    {
        "non",
        "n",
        "no",
        "faux",
        "false",
        "0",
        "non coche",
        "non cochee",
        "refus",
        "refuse",
        "aucun",
        "aucune",
        "sans",
        "absent",
        "absente",
        "off",
        "neant",
    }
)
_BRACKET_TICK = re.compile(r"\[\s*[xX✓✔]\s*\]|\(\s*[xX]\s*\)")
_BRACKET_EMPTY = re.compile(r"\[\s*\]|\(\s*\)")


def _ticked_options(text: str) -> list[tuple[bool, str]] | None:
    """Split "☒ Oui ☐ Non" into [(True, "Oui"), (False, "Non")]; None without ticks."""
    text = _BRACKET_TICK.sub("☒", text)
    text = _BRACKET_EMPTY.sub("☐", text)
    if not has_tick(text):
        return None
    options: list[tuple[bool, str]] = []
    for match in re.finditer(
        r"([" + "".join(sorted(TICK_MARKS)) + r"])([^" + "".join(sorted(TICK_MARKS)) + r"]*)", text
    ):
        options.append((match.group(1) in TICKED, match.group(2).strip()))
    return options


def parse_yes_no(text: str) -> bool | None:
    """True / False, or None when the text does not say."""
    stripped = text.strip()
    if not stripped:
        return None
    options = _ticked_options(stripped)
    if options is not None:
        if len(options) == 1 and not fold(options[0][1]):
            return options[0][0]  # a lone box: its state is the answer
        ticked = [fold(label) for is_ticked, label in options if is_ticked]
        if any(label in _YES or label.startswith("oui") for label in ticked):
            return True
        if any(label in _NO or label.startswith("non") for label in ticked):
            return False
        if len(options) == 1:
            return options[0][0]
        return None
    folded = fold(stripped, drop_parens=False)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    first = folded.split(" ", 1)[0] if folded else ""
    if first in {"oui", "yes"}:
        return True
    if first in {"non", "no"}:
        return False
    return None
