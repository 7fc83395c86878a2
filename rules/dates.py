"""Calendar arithmetic for ages, following French délai rules.

A period of N months ends on the same day-of-month N months later; when that
month is shorter, it ends on the month's last day (art. 641 CPC). So a child
born on 31 August is 6 months old on 28/29 February, and someone born on
29 February has a birthday on 28 February in common years.
"""

from __future__ import annotations

import calendar
from datetime import date

__all__ = [
    "add_months",
    "completed_months",
    "completed_years",
    "is_at_most_months_old",
    "is_older_than_years",
]


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, clamped to the month's end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))


def completed_months(birth: date, on: date) -> int:
    """Whole months lived from ``birth`` to ``on`` (negative if ``on`` is earlier)."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    # The rough count can be one too many when the day-of-month is not reached.
    if add_months(birth, months) > on:
        months -= 1
    return months


def completed_years(birth: date, on: date) -> int:
    """Age in whole years on ``on``."""
    return completed_months(birth, on) // 12


def is_older_than_years(birth: date, on: date, years: int) -> bool:
    """Strictly older than ``years``: the day of the birthday itself does not count."""
    return on > add_months(birth, 12 * years)


def is_at_most_months_old(birth: date, on: date, months: int) -> bool:
    """``months`` old or younger: the monthly anniversary itself still counts."""
    return birth <= on <= add_months(birth, months)
