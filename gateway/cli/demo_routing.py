"""The demo CPTS's territory and roster, written as the files a real structure keeps.

Tests reuse them with their own doctors' addresses, so the files they run on are
the same shape an operator writes (``deploy/roster.example.toml``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.cli.demo_data import demo_data

__all__ = [
    "DEMO_DOCTORS",
    "DEMO_INSEE_CODES",
    "DEMO_POSTAL_CODES",
    "DemoDoctor",
    "programmes_toml",
    "roster_toml",
    "write_routing_files",
]

# Gérardmer, Remiremont, Saint-Dié-des-Vosges (Vosges).
DEMO_POSTAL_CODES = ("88400", "88200", "88100")
DEMO_INSEE_CODES = ("88196", "88383", "88413")


@dataclass(frozen=True)
class DemoDoctor:
    rpps: str
    name: str
    email: str
    speciality: str = "SM54"
    accepts_new_patients: bool = True
    capacity: int = 3
    communes: tuple[str, ...] = DEMO_POSTAL_CODES
    filieres: tuple[str, ...] = field(default_factory=tuple)


def _doctor(entry: dict[str, Any]) -> DemoDoctor:
    tuples = {k: tuple(v) for k, v in entry.items() if isinstance(v, list)}
    return DemoDoctor(**{**entry, **tuples})


# The demo roster (demo_data.toml, [[doctor]]).
DEMO_DOCTORS = tuple(_doctor(entry) for entry in demo_data()["doctor"])


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def roster_toml(doctors: Sequence[DemoDoctor]) -> str:
    blocks = []
    for d in doctors:
        blocks.append(
            "[[doctors]]\n"
            f"rpps = {json.dumps(d.rpps)}\n"
            f"name = {json.dumps(d.name, ensure_ascii=False)}\n"
            f"email = {json.dumps(d.email)}\n"
            f"speciality = {json.dumps(d.speciality)}\n"
            f"filieres = {_toml_list(d.filieres)}\n"
            f"accepts_new_patients = {'true' if d.accepts_new_patients else 'false'}\n"
            f"capacity = {d.capacity}\n"
            f"communes = {_toml_list(d.communes)}\n"
        )
    return "# Generated roster (demo / tests).\n\n" + "\n".join(blocks)


def programmes_toml(
    postal_codes: Sequence[str] = DEMO_POSTAL_CODES,
    insee_codes: Sequence[str] = DEMO_INSEE_CODES,
) -> str:
    return (
        "# Generated programme overrides (demo / tests): the CPTS territory.\n"
        "[signalement.params.patient_in_territory]\n"
        f"postal_codes = {_toml_list(postal_codes)}\n"
        f"insee_codes = {_toml_list(insee_codes)}\n"
    )


def write_routing_files(
    directory: Path, doctors: Sequence[DemoDoctor] = DEMO_DOCTORS
) -> tuple[Path, Path]:
    """Write ``programmes.toml`` and ``roster.toml``; returns their paths in that order."""
    directory.mkdir(parents=True, exist_ok=True)
    programmes = directory / "programmes.toml"
    roster = directory / "roster.toml"
    programmes.write_text(programmes_toml(), encoding="utf-8")
    roster.write_text(roster_toml(doctors), encoding="utf-8")
    return programmes, roster
