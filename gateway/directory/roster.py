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
from gateway.wording import label, say

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
            raise ValueError(say("directory.roster.bad_rpps"))
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not _EMAIL.match(value):
            raise ValueError(say("directory.roster.bad_email"))
        return value

    @field_validator("speciality")
    @classmethod
    def _speciality(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not _SPECIALITY.match(value):
            raise ValueError(say("directory.roster.bad_speciality"))
        return value

    @field_validator("communes")
    @classmethod
    def _communes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip().upper() for v in values)
        for i, code in enumerate(cleaned):
            if not _COMMUNE.match(code):
                raise ValueError(say("directory.roster.bad_commune", index=i, code=code))
        return cleaned

    @field_validator("filieres")
    @classmethod
    def _filieres(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError(say("directory.roster.empty_filiere"))
        return tuple(v.strip() for v in values)


class _RosterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doctors: tuple[_Doctor, ...] = ()


def _key(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Mapping[str, Any]) -> str:
    """In French: ``directory.roster.invalid.<pydantic error type>``, else pydantic's own."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return label("directory.roster.invalid", str(error["type"]), str(error["msg"]))


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
            taken = say("directory.roster.rpps_taken", index=seen_rpps[d.rpps])
            raise RosterError(f"{where}.rpps: {taken}")
        if d.email in seen_email:
            taken = say("directory.roster.email_taken", index=seen_email[d.email])
            raise RosterError(f"{where}.email: {taken}")
        seen_rpps[d.rpps], seen_email[d.email] = i, i
        for j, a in enumerate(d.absences):
            if a.end < a.start:
                early = say("directory.roster.end_before_start")
                raise RosterError(f"{where}.absences[{j}].end: {early}")
        if d.accepts_new_patients and not d.communes:
            raise RosterError(f"{where}.communes: {say('directory.roster.communes_required')}")
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
        unreadable = say("directory.roster.unreadable", reason=exc.strerror or exc)
        raise RosterError(f"{path.name}: {unreadable}") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path.name}: {say('directory.roster.not_utf8')}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RosterError(f"{path.name}: {say('directory.roster.bad_toml', reason=exc)}") from None
    return parse_roster(data, path.name)
