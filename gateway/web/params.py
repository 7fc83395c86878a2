"""Checks on what a request carries: a value that fails one is a 400 or a 404, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

__all__ = [
    "BadParameterError",
    "bad_text",
    "date_param",
    "ident",
    "local_path",
]

# Ids fit a signed 64-bit column: 18 digits always do, so a longer one is found nowhere.
_IDENT = re.compile(r"[0-9]{1,18}")
# Control characters; form text may hold tabs and line ends (a note, a message).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_QUERY_VALUE = 500
# Dates a filter may hold: beyond these the day after, or a local midnight, overflows.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


class BadParameterError(ValueError):
    """A request parameter is malformed: the page answers 400 naming it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def ident(value: str) -> int | None:
    """A numeric id, or None (so: not found) when it is not one a column can hold."""
    return int(value) if _IDENT.fullmatch(value) else None


def date_param(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParameterError(name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadParameterError(name)
    return day


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None: never an open redirect.

    Browsers drop tabs and line ends inside a URL ("/\t/evil.test" is "//evil.test") and read
    "\\" as "/", so neither is allowed, nor any space or control character."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and all(" " < c != "\x7f" for c in value)
        and len(value) <= 2000
    ):
        return value
    return None


def bad_text(items: Iterable[tuple[str, str]], *, text: bool, limit: int | None) -> str | None:
    """The name of the first value holding a control character or over ``limit``, if any."""
    pattern = _CONTROL_IN_TEXT if text else _CONTROL
    for name, value in items:
        if pattern.search(name) or pattern.search(value):
            return name if not _CONTROL.search(name) else "?"
        if limit is not None and len(value) > limit:
            return name
    return None
