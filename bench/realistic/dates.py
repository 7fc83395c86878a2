"""Dates as people write them, ages on the mail's date, and the mail dates of 2026."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

__all__ = [
    "MONTHS",
    "age_months",
    "age_years",
    "fmt_date",
    "fmt_short",
    "mail_datetime",
    "paris_offset",
]

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_FIRST = date(2026, 1, 5)
_LAST = date(2026, 11, 30)
# Daylight saving time in Paris, 2026 (UTC instants).
_DST_START = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
_DST_END = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def paris_offset(moment_utc: datetime) -> timezone:
    hours = 2 if _DST_START <= moment_utc < _DST_END else 1
    return timezone(timedelta(hours=hours))


def mail_datetime(rng: random.Random) -> datetime:
    """A working-hours moment in 2026, Paris time, between 5 January and 30 November."""
    span = (_LAST - _FIRST).days
    while True:
        day = _FIRST + timedelta(days=rng.randint(0, span))
        if day.weekday() < 5 or rng.random() < 0.1:
            break
    hour = rng.choice((7, 8, 8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21))
    naive = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))
    offset = paris_offset(naive.replace(tzinfo=UTC) - timedelta(hours=1))
    return naive.replace(tzinfo=offset)


def age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_months(birth: date, on: date) -> int:
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - (on.day < birth.day)


def fmt_date(d: date, rng: random.Random, kind: str = "any") -> str:
    """A date in one of the ways French mails write it.

    kind: "any", "numeric" (forms), "words" (prose), "iso".
    """
    day = "1er" if d.day == 1 else str(d.day)
    words = f"{day} {MONTHS[d.month - 1]} {d.year}"
    options: list[str] = []
    if kind in ("any", "numeric"):
        options += [d.strftime("%d/%m/%Y")] * 4 + [
            f"{d.day}/{d.month}/{d.year}",
            d.strftime("%d.%m.%Y"),
        ]
        if 1935 <= d.year <= 1999:
            options += [d.strftime("%d-%m-%y"), d.strftime("%d/%m/%y")]
    if kind in ("any", "words"):
        options += [words, words, f"{day} {MONTHS[d.month - 1].upper()} {d.year}"]
    if kind in ("any", "iso"):
        options += [d.isoformat()]
    return rng.choice(options)


def fmt_short(d: date, rng: random.Random) -> str:
    """A recent date without the year, as in "sortie le 10/06"."""
    day = "1er" if d.day == 1 else str(d.day)
    return rng.choice((d.strftime("%d/%m"), f"{day} {MONTHS[d.month - 1]}", d.strftime("%d/%m/%Y")))
