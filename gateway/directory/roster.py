"""The CPTS roster: a local TOML file listing the structure's own doctors.

The format is documented key by key in ``deploy/roster.example.toml``. Loading
validates every entry and raises ``RosterError`` whose message names the file
and the key, e.g. ``roster.toml: doctors[2].capacity: …`` (indices count from 0,
in the order of the ``[[doctors]]`` tables). The result is a tuple of
``gateway.routing.roster.RosterDoctor``; open offers are not part of the file,
the caller fills them from storage.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError
from gateway.routing.roster import Absence, RosterDoctor

__all__ = ["RosterError", "load_roster", "parse_roster"]

_RPPS = re.compile(r"^\d{11}$")
_SPECIALITY = re.compile(r"^SM\d{2}$")
# INSEE commune code (2A/2B in Corsica) or postal code: five characters.
_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterError(ConfigError):
    """The roster file is invalid; the message names the file and the key."""


class _Absence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date
    end: date


class _Doctor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rpps: str
    name: str = Field(min_length=1)
    email: str
    speciality: str | None = None
    filieres: tuple[str, ...] = ()
    accepts_new_patients: bool = False
    capacity: int = Field(default=0, ge=0)
    communes: tuple[str, ...] = ()
    absences: tuple[_Absence, ...] = ()
    cpts_member: bool = True

    @field_validator("rpps")
    @classmethod
    def _rpps(cls, value: str) -> str:
        value = value.strip()
        if not _RPPS.match(value):
            raise ValueError("un RPPS a 11 chiffres")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not _EMAIL.match(value):
            raise ValueError("adresse de messagerie invalide")
        return value

    @field_validator("speciality")
    @classmethod
    def _speciality(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not _SPECIALITY.match(value):
            raise ValueError("code savoir-faire attendu sous la forme SMxx (ex. SM54)")
        return value

    @field_validator("communes")
    @classmethod
    def _communes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip().upper() for v in values)
        for i, code in enumerate(cleaned):
            if not _COMMUNE.match(code):
                raise ValueError(f"[{i}] « {code} » n'est ni un code INSEE ni un code postal")
        return cleaned

    @field_validator("filieres")
    @classmethod
    def _filieres(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("filière vide")
        return tuple(v.strip() for v in values)


class _RosterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doctors: tuple[_Doctor, ...] = ()


def _key(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_MESSAGES = {
    "missing": "clé obligatoire absente",
    "extra_forbidden": "clé inconnue",
    "greater_than_equal": "doit être positif ou nul",
    "string_type": "texte attendu (entre guillemets)",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "too_short": "ne doit pas être vide",
    "string_too_short": "ne doit pas être vide",
    "tuple_type": "liste attendue",
}


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return _MESSAGES.get(str(error["type"]), str(error["msg"]))


def parse_roster(data: Mapping[str, Any], source: str = "roster.toml") -> tuple[RosterDoctor, ...]:
    """Validate parsed TOML and convert it; ``source`` prefixes every error message."""
    try:
        parsed = _RosterFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RosterError(f"{source}: {_key(first['loc'])}: {_message(first)}") from None
    seen_rpps: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    doctors: list[RosterDoctor] = []
    for i, d in enumerate(parsed.doctors):
        where = f"{source}: doctors[{i}]"
        if d.rpps in seen_rpps:
            raise RosterError(f"{where}.rpps: déjà utilisé par doctors[{seen_rpps[d.rpps]}]")
        if d.email in seen_email:
            raise RosterError(f"{where}.email: déjà utilisée par doctors[{seen_email[d.email]}]")
        seen_rpps[d.rpps], seen_email[d.email] = i, i
        for j, a in enumerate(d.absences):
            if a.end < a.start:
                raise RosterError(f"{where}.absences[{j}].end: antérieure à start")
        if d.accepts_new_patients and not d.communes:
            raise RosterError(
                f"{where}.communes: au moins une commune est requise "
                "quand accepts_new_patients = true"
            )
        doctors.append(
            RosterDoctor(
                rpps=d.rpps,
                name=d.name.strip(),
                email=d.email,
                speciality_code=d.speciality,
                accepts_new_patients=d.accepts_new_patients,
                capacity=d.capacity,
                communes=frozenset(d.communes),
                absences=tuple(Absence(start=a.start, end=a.end) for a in d.absences),
                filieres=frozenset(d.filieres),
                cpts_member=d.cpts_member,
            )
        )
    return tuple(doctors)


def load_roster(path: Path) -> tuple[RosterDoctor, ...]:
    """Read and validate a roster file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RosterError(f"{path.name}: illisible ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path.name}: le fichier doit être encodé en UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RosterError(f"{path.name}: TOML invalide ({exc})") from None
    return parse_roster(data, path.name)
