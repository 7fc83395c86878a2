"""CSV cells a spreadsheet will not run: formula injection (CWE-1236) neutralised.

Excel and LibreOffice read a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
carriage return before one) as a formula, so a sender address such as
``=cmd|'/c calc'!A0@evil.test`` would run on the coordinator's machine. Such a cell gets a
leading single quote, which the spreadsheet shows as text. Every CSV the product writes
passes its text cells through ``safe_cell``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_row(values: Iterable[str]) -> list[str]:
    return [safe_cell(v) for v in values]
