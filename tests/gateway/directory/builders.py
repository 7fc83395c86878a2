"""Annuaire Santé extracts built in code, in the real format (FORMATS.md §4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.directory.extract import PERSONNE_ACTIVITE_HEADER

PA_HEADER = PERSONNE_ACTIVITE_HEADER
PA_VARIANT_HEADER = PA_HEADER.replace(
    "Libellé civilité d'exercice", "Libellé civilité exercice"
).replace("(coord. structure)", "(coord. Structure)")

MSS_HEADER = (
    "Type de BAL|Adresse BAL|Type Identifiant PP|Identifiant PP|Identification nationale PP|"
    "Type identifiant structure|Identification Structure|Service de rattachement|"
    "Civilité d'exercice|Nom d'exercice|Prénom d'exercice|"
    "Catégorie profession|Libellé de catégorie profession|Code Profession|Libellé Profession|"
    "Code savoir-faire|Libellé savoir-faire|Dématérialisation|"
    "Raison Sociale structure BAL|Enseigne commerciale structure BAL|L2COMPLEMENTLOCALISATION|"
    "L3COMPLEMENTDISTRIBUTION|L4NUMEROVOIE|L4COMPLEMENTNUMEROVOIE|NL4TYPEVOIE|L4LIBELLEVOIE|"
    "L5LIEUDITMENTION|L6LIGNEACHEMINEMENT|Code postal|Département|Pays|"
)


def names(header: str) -> list[str]:
    return header.rstrip("|").split("|")


def pa_row(
    rpps: str = "10001045367",
    *,
    structure: str = "R10000000001",
    profession: str = "10",
    savoir_faire: str = "SM54",
    **fields: str,
) -> dict[str, str]:
    """One Personne_activite activity; ``fields`` override by reference header name."""
    row = {
        "Type d'identifiant PP": "8",
        "Identifiant PP": rpps,
        "Identification nationale PP": "8" + rpps,
        "Code civilité d'exercice": "DR",
        "Libellé civilité d'exercice": "Docteur",
        "Nom d'exercice": "MARTIN",
        "Prénom d'exercice": "Hélène",
        "Code profession": profession,
        "Libellé profession": "Médecin" if profession == "10" else "Infirmier",
        "Code savoir-faire": savoir_faire,
        "Libellé savoir-faire": "Médecine générale" if savoir_faire == "SM54" else "",
        "Code mode exercice": "L",
        "Libellé mode exercice": "Libéral",
        "Identifiant technique de la structure": structure,
        "Raison sociale site": "CABINET MARTIN",
        "Code postal (coord. structure)": "35000",
        "Code commune (coord. structure)": "35238",
        "Libellé commune (coord. structure)": "Rennes",
        "Téléphone (coord. structure)": "0299000000",
    }
    row.update(fields)
    return row


def mss_row(address: str, national_id: str = "810001045367", **fields: str) -> dict[str, str]:
    row = {
        "Type de BAL": "PER",
        "Adresse BAL": address,
        "Type Identifiant PP": "8",
        "Identifiant PP": national_id[1:],
        "Identification nationale PP": national_id,
        "Code Profession": "10",
        "Libellé Profession": "Médecin",
        "Code savoir-faire": "SM54",
        "Libellé savoir-faire": "Médecine générale",
        "Raison Sociale structure BAL": "CABINET MARTIN",
        "Code postal": "35000",
    }
    row.update(fields)
    return row


def line(header: str, row: Mapping[str, str]) -> str:
    """The row under ``header``; keys use the reference spelling even for the variant."""
    out = []
    for name in names(header):
        reference = name.replace("(coord. Structure)", "(coord. structure)").replace(
            "Libellé civilité exercice", "Libellé civilité d'exercice"
        )
        out.append(row.get(reference, ""))
    return "|".join(out) + "|"


def write_extract(
    path: Path,
    header: str,
    rows: Sequence[Mapping[str, str]],
    *,
    encoding: str = "utf-8",
    extra_lines: Sequence[str] = (),
    newline: str = "\n",
) -> Path:
    text = newline.join([header, *(line(header, r) for r in rows), *extra_lines]) + newline
    path.write_bytes(text.encode(encoding))
    return path
