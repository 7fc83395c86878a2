"""The roster as routing reads it: doctors, their absences, who counts as a GP.

Loaded from a file by ``gateway.directory``; plain values here so routing stays pure.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.keys import norm_key

__all__ = ["GP_SPECIALITIES", "Absence", "RosterDoctor", "is_absent"]

# TRE_R38: the three general-medicine savoir-faire count as GP (FORMATS.md §4).
GP_SPECIALITIES = frozenset({"SM54", "SM26", "SM53"})


class Absence(BaseModel):
    """An absence, both ends included."""

    model_config = ConfigDict(frozen=True)

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.end < self.start:
            raise ValueError("absence end is before its start")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class RosterDoctor(BaseModel):
    model_config = ConfigDict(frozen=True)

    rpps: str
    name: str
    email: str
    speciality_code: str | None = None  # TRE_R38
    accepts_new_patients: bool = False
    capacity: int = Field(default=0, ge=0)  # open offers the doctor is willing to hold
    open_offers: int = Field(default=0, ge=0)
    communes: frozenset[str] = frozenset()  # INSEE and/or postal codes served
    absences: tuple[Absence, ...] = ()
    filieres: frozenset[str] = frozenset()  # télé-expertise filières where they are requis
    cpts_member: bool = True

    @property
    def is_gp(self) -> bool:
        return (self.speciality_code or "").upper() in GP_SPECIALITIES

    def in_filiere(self, filiere: str) -> bool:
        key = norm_key(filiere)
        return key in {norm_key(f) for f in self.filieres}


def is_absent(doctor: RosterDoctor, day: date) -> bool:
    return any(a.covers(day) for a in doctor.absences)
