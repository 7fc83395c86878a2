"""Dates as people write them: 12/03/1950, 12-03-50, 1950-03-12, 12 mars 1950, 19500312."""

from __future__ import annotations

import re
from datetime import date

from parsers.text import fold

__all__ = ["MONTHS_FR", "format_french", "parse_date"]

MONTHS_FR = (
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
)
_MONTH_ALIASES = {name: i + 1 for i, name in enumerate(MONTHS_FR)} | {
    "janv": 1,
    "fev": 2,
    "fevr": 2,
    "avr": 4,
    "juil": 7,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_DMY = re.compile(r"^(\d{1,2})[/.\-\s](\d{1,2})[/.\-\s](\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{0,6})(?:[.,]\d+)?(?:[+-]\d{4})?$")
_WORDS = re.compile(r"^(?:le\s+)?(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _expand_year(two_digits: int, today: date) -> int:
    # 12-03-50 is 1950, not 2050: a two-digit year is never in the future.
    year = 2000 + two_digits
    return year - 100 if year > today.year else year


def parse_date(text: str, *, today: date | None = None) -> date | None:
    """Return the date written in ``text``, or None when it is not a whole date."""
    value = text.strip().strip(".,;")
    if not value or len(value) > 40:
        return None
    today = today or date.today()
    if match := _DMY.match(value):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            year = _expand_year(year, today)
        return _make(year, month, day)
    if match := _YMD.match(value):
        year, month, day = (int(g) for g in match.groups())
        return _make(year, month, day)
    if match := _COMPACT.match(value):
        year, month, day = (int(g) for g in match.groups())
        return _make(year, month, day)
    if match := _WORDS.match(fold(value, drop_parens=False).replace(" er ", " ")):
        month_number = _MONTH_ALIASES.get(match.group(2))
        if month_number is None:
            return None
        return _make(int(match.group(3)), month_number, int(match.group(1)))
    return None


def format_french(value: date) -> str:
    """``12 mars 1950`` (unaccented month names are accepted back by ``parse_date``)."""
    return f"{value.day} {MONTHS_FR[value.month - 1]} {value.year}"
