"""Roster edits from the UI, written back to the roster file the daemon reads.

The file stays the one source of truth (it can still be edited by hand and kept under version
control); an edit is validated with the daemon's own loader before the file is replaced
atomically, and the previous version is kept as ``<name>.bak``.
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gateway.directory.roster import RosterError, parse_roster
from gateway.wording import say

__all__ = ["AbsenceEdit", "RosterEdit", "apply_edit", "dump_roster", "read_doctors"]

_KEY_ORDER = (
    "rpps",
    "name",
    "email",
    "speciality",
    "filieres",
    "accepts_new_patients",
    "capacity",
    "communes",
    "cpts_member",
)
_LOCK = threading.Lock()  # one writer at a time within this process


@dataclass(frozen=True)
class AbsenceEdit:
    start: date
    end: date


@dataclass(frozen=True)
class RosterEdit:
    accepts_new_patients: bool
    filieres: tuple[str, ...]
    absences: tuple[AbsenceEdit, ...]


def read_doctors(path: Path) -> list[dict[str, Any]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    doctors = data.get("doctors", [])
    return [dict(d) for d in doctors] if isinstance(doctors, list) else []


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def dump_roster(doctors: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# The CPTS roster, last written by the Aiguilleur web UI.",
        "# Keys are documented in deploy/roster.example.toml.",
    ]
    for doctor in doctors:
        lines += ["", "[[doctors]]"]
        for key in _KEY_ORDER:
            if key in doctor and doctor[key] is not None:
                lines.append(f"{key} = {_value(doctor[key])}")
        for absence in doctor.get("absences", []):
            lines += ["", "[[doctors.absences]]"]
            lines.append(f"start = {_value(absence['start'])}")
            lines.append(f"end = {_value(absence['end'])}")
    return "\n".join(lines) + "\n"


def apply_edit(path: Path, rpps: str, edit: RosterEdit) -> None:
    """Raise ``RosterError`` (French message naming the key) when the result is invalid."""
    with _LOCK:
        doctors = read_doctors(path)
        found = [d for d in doctors if str(d.get("rpps", "")) == rpps]
        if not found:
            raise RosterError(say("web.error.roster_no_doctor", file=path.name, rpps=rpps))
        doctor = found[0]
        doctor["accepts_new_patients"] = edit.accepts_new_patients
        doctor["filieres"] = list(edit.filieres)
        doctor["absences"] = [{"start": a.start, "end": a.end} for a in edit.absences]
        text = dump_roster(doctors)
        parse_roster(tomllib.loads(text), path.name)  # the daemon's own validation
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            backup.write_bytes(path.read_bytes())
        os.replace(tmp, path)
