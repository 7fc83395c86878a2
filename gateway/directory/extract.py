"""Pure helpers for the Annuaire Santé extracts: encodings, header names, file kinds.

The extracts are ``|``-separated text with one header row, a trailing ``|`` on
every line and no quoting (FORMATS.md §4). Columns are found by header name,
compared without case, accents, punctuation or small words, because the ANS
files spell some headers in more than one way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import GatewayError

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

# Words dropped when comparing headers: "civilité d'exercice" == "civilité exercice".
_SMALL_WORDS = frozenset({"d", "de", "du", "des", "l", "la", "le", "les"})
_WORD = re.compile(r"[a-z0-9]+")


# The header exactly as FORMATS.md §4 gives it, trailing "|" included.
PERSONNE_ACTIVITE_HEADER = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
    "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|"
    "Code profession|Libellé profession|Code catégorie professionnelle|"
    "Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|"
    "Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|"
    "Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|"
    "Numéro FINESS établissement juridique|Identifiant technique de la structure|"
    "Raison sociale site|Enseigne commerciale site|"
    "Complément destinataire (coord. structure)|"
    "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
    "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
    "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|"
    "Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|"
    "Libellé pays (coord. structure)|Téléphone (coord. structure)|"
    "Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|"
    "Libellé Département (structure)|Ancien identifiant de la structure|"
    "Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|"
    "Code section tableau pharmaciens|Libellé section tableau pharmaciens|"
)


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
PERSONNE_ACTIVITE_COLUMNS = _specs(
    {
        "id_type": "Type d'identifiant PP",
        "pp_id": "Identifiant PP",
        "national_id": "Identification nationale PP",
        "civility": "Libellé civilité d'exercice",
        "family_name": "Nom d'exercice",
        "given_name": "Prénom d'exercice",
        "profession_code": "Code profession",
        "profession_label": "Libellé profession",
        "savoir_faire_code": "Code savoir-faire",
        "savoir_faire_label": "Libellé savoir-faire",
        "practice_mode_code": "Code mode exercice",
        "practice_mode_label": "Libellé mode exercice",
        "structure_id": "Identifiant technique de la structure",
        "structure_name": "Raison sociale site",
        "structure_sign": "Enseigne commerciale site",
        "postal_code": "Code postal (coord. structure)",
        "commune_code": "Code commune (coord. structure)",
        "commune_label": "Libellé commune (coord. structure)",
        "phone": "Téléphone (coord. structure)",
        "email": "Adresse e-mail (coord. structure)",
    }
)

MSSANTE_COLUMNS = _specs(
    {
        "bal_type": "Type de BAL",
        "address": "Adresse BAL",
        "national_id": "Identification nationale PP",
        "profession_code": "Code Profession",
        "profession_label": "Libellé Profession",
        "savoir_faire_code": "Code savoir-faire",
        "savoir_faire_label": "Libellé savoir-faire",
        "structure_name": "Raison Sociale structure BAL",
        "structure_sign": "Enseigne commerciale structure BAL",
        "postal_code": "Code postal",
    }
)

_FINGERPRINTS: Mapping[FileKind, frozenset[str]] = {
    FileKind.MSSANTE: frozenset({norm_header("Adresse BAL"), norm_header("Type de BAL")}),
    FileKind.PERSONNE_ACTIVITE: frozenset(
        {
            norm_header("Identification nationale PP"),
            norm_header("Identifiant technique de la structure"),
            norm_header("Code savoir-faire"),
        }
    ),
}
_NAME_HINTS: Mapping[FileKind, str] = {
    FileKind.MSSANTE: "correspondance_mssante",
    FileKind.PERSONNE_ACTIVITE: "personne_activite",
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
    raise ExtractError("type d'extraction non reconnu (ni Personne_activite ni MSSanté)")


def column_indexes(header: Sequence[str], specs: Sequence[ColumnSpec]) -> tuple[int, ...]:
    """For each spec, the index of its column in ``header``; all must be present."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(norm_header(name), i)
    missing = [s.header for s in specs if norm_header(s.header) not in positions]
    if missing:
        listed = ", ".join(f"« {m} »" for m in missing)
        raise ExtractError(f"colonne(s) absente(s) de l'en-tête : {listed}")
    return tuple(positions[norm_header(s.header)] for s in specs)
