"""Pure helpers for the Annuaire Santé extracts: encodings, header names, file kinds.

The extracts are ``|``-separated text with one header row, a trailing ``|`` on
every line and no quoting (FORMATS.md §4). Columns are found by header name,
compared without case, accents, punctuation or small words, because the ANS
files spell some headers in more than one way. The headers, French as the ANS
writes them, are data: ``columns.toml`` beside this module.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from gateway.errors import GatewayError
from gateway.wording import say

__all__ = [
    "MSSANTE_COLUMNS",
    "PERSONNE_ACTIVITE_COLUMNS",
    "PERSONNE_ACTIVITE_HEADER",
    "SEPARATOR",
    "ColumnSpec",
    "ExtractError",
    "FileKind",
    "column_indexes",
    "detect_encoding",
    "detect_kind",
    "norm_header",
    "split_line",
]

SEPARATOR = "|"

_COLUMNS: Mapping[str, Any] = tomllib.loads(
    resources.files(__package__).joinpath("columns.toml").read_text("utf-8")
)
# Words dropped when comparing headers: "civilité d'exercice" == "civilité exercice".
_SMALL_WORDS = frozenset(_COLUMNS["small_words"])
_WORD = re.compile(r"[a-z0-9]+")


# The header exactly as FORMATS.md §4 gives it, trailing "|" included.
PERSONNE_ACTIVITE_HEADER = "|".join(_COLUMNS["personne_activite"]["header"]) + "|"


class ExtractError(GatewayError, ValueError):
    """An extract cannot be read: unknown kind or missing columns. French message."""


class FileKind(StrEnum):
    PERSONNE_ACTIVITE = "personne_activite"
    MSSANTE = "mssante"


def norm_header(name: str) -> str:
    """``"Libellé civilité d'exercice"`` → ``"libelle_civilite_exercice"``."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", "").casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join(w for w in _WORD.findall(bare) if w not in _SMALL_WORDS)


@dataclass(frozen=True)
class ColumnSpec:
    """A field we read and the header it comes from (as the reference file spells it)."""

    field: str
    header: str


def _specs(pairs: Mapping[str, str]) -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(f, h) for f, h in pairs.items())


# Order matters: the importer reads the fields in this order.
PERSONNE_ACTIVITE_COLUMNS = _specs(_COLUMNS[FileKind.PERSONNE_ACTIVITE.value]["columns"])
MSSANTE_COLUMNS = _specs(_COLUMNS[FileKind.MSSANTE.value]["columns"])

# Tried in this order: the MSSanté header also names "Identification nationale PP".
_DETECTION_ORDER = (FileKind.MSSANTE, FileKind.PERSONNE_ACTIVITE)
_FINGERPRINTS: Mapping[FileKind, frozenset[str]] = {
    kind: frozenset(norm_header(h) for h in _COLUMNS[kind.value]["fingerprint"])
    for kind in _DETECTION_ORDER
}
_NAME_HINTS: Mapping[FileKind, str] = {
    kind: _COLUMNS[kind.value]["file_name_hint"] for kind in _DETECTION_ORDER
}


def split_line(line: str) -> list[str]:
    """Fields of one line; the trailing ``|`` and line end are dropped."""
    line = line.rstrip("\r\n")
    if line.endswith(SEPARATOR):
        line = line[:-1]
    return line.split(SEPARATOR)


def detect_encoding(head: bytes) -> str:
    """``"utf-8"`` or ``"latin-1"``, by a vote of the non-ASCII lines in the first chunk.

    A vote rather than "the chunk decodes": one stray latin-1 line must not turn a
    UTF-8 file into mojibake (the importer decodes such lines one by one). The last
    line may be cut mid-character, so it only votes when it is the only one.
    """
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]
    utf8 = latin1 = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError as exc:
            cut = exc.reason == "unexpected end of data" and exc.start >= len(line) - 3
            if cut:
                utf8 += 1
            else:
                latin1 += 1
    return "latin-1" if latin1 > utf8 else "utf-8"


def detect_kind(header: Sequence[str], file_name: str = "") -> FileKind:
    """The kind of extract, from its header names, else from its file name."""
    names = {norm_header(h) for h in header}
    for kind, needed in _FINGERPRINTS.items():
        if needed <= names:
            return kind
    lowered = file_name.casefold()
    for kind, hint in _NAME_HINTS.items():
        if hint in lowered:
            return kind
    raise ExtractError(say("directory.error.unknown_kind"))


def column_indexes(header: Sequence[str], specs: Sequence[ColumnSpec]) -> tuple[int, ...]:
    """For each spec, the index of its column in ``header``; all must be present."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(norm_header(name), i)
    missing = [s.header for s in specs if norm_header(s.header) not in positions]
    if missing:
        listed = ", ".join(say("directory.error.column", header=m) for m in missing)
        raise ExtractError(say("directory.error.missing_columns", columns=listed))
    return tuple(positions[norm_header(s.header)] for s in specs)
