"""Which programme a text names: keywords from ``data/kinds.toml``."""

from __future__ import annotations

import re
from functools import cache

from parsers.data import load_toml
from parsers.request import RequestKind
from parsers.text import fold

__all__ = ["find_status_query", "kind_from_text"]


@cache
def _keywords() -> tuple[tuple[RequestKind, tuple[str, ...]], ...]:
    table = load_toml("kinds.toml")["kinds"]
    return tuple(
        (RequestKind(name), tuple(fold(k) for k in entry["keywords"]))
        for name, entry in table.items()
    )


@cache
def _status_pattern() -> re.Pattern[str]:
    return re.compile(str(load_toml("kinds.toml")["status_query_pattern"]), re.IGNORECASE)


def kind_from_text(text: str) -> RequestKind | None:
    """The first programme (in data order) whose keyword appears in the text."""
    padded = f" {fold(text, drop_parens=False)} "
    if padded.strip() in {k.value.replace("_", " ") for k in RequestKind}:
        return RequestKind(padded.strip().replace(" ", "_"))
    for kind, keywords in _keywords():
        if any(f" {keyword} " in padded for keyword in keywords):
            return kind
    return None


def find_status_query(text: str) -> str | None:
    """The case reference in "STATUT AIG-2025-000123", if the text is a status query."""
    match = _status_pattern().search(text)
    return match.group(1).upper() if match else None
