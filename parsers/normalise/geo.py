"""French postal codes and INSEE commune codes."""

from __future__ import annotations

import re

__all__ = ["find_postal_code", "normalise_insee_code", "normalise_postal_code"]

_POSTAL = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$")
_POSTAL_IN_TEXT = re.compile(r"(?<!\d)((?:0[1-9]|[1-8]\d|9[0-8])\d{3})(?!\d)")
# 2A/2B for Corsica, 97x/98x for overseas.
_INSEE = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-5]|2A|2B)\d{3}$|^9[78]\d{3}$")


def normalise_postal_code(text: str) -> str | None:
    value = re.sub(r"\s", "", text)
    if len(value) == 4 and value.isdigit():
        value = "0" + value  # "7500" lost its leading zero in a spreadsheet
    return value if _POSTAL.match(value) else None


def find_postal_code(text: str) -> str | None:
    """The first postal code in an address line ("12 rue X, 75007 PARIS")."""
    match = _POSTAL_IN_TEXT.search(text)
    return match.group(1) if match else None


def normalise_insee_code(text: str) -> str | None:
    value = re.sub(r"\s", "", text).upper()
    return value if _INSEE.match(value) else None
