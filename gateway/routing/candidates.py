"""Which doctors to offer a case to: pure choices over a roster snapshot.

The caller loads the roster and the counters; nothing here reads a clock or a
database, so the same inputs always give the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.routing.roster import RosterDoctor, is_absent
from gateway.wording import say

__all__ = [
    "TeTargets",
    "signalement_candidates",
    "teleexpertise_targets",
]


def _codes(patient_commune: str | Iterable[str]) -> frozenset[str]:
    raw = [patient_commune] if isinstance(patient_commune, str) else list(patient_commune)
    return frozenset(c.strip().upper() for c in raw if c and c.strip())


def _round_robin_key(roster: Sequence[RosterDoctor], rr_cursor: int) -> Mapping[str, int]:
    """Each doctor's distance from the cursor in the roster sorted by RPPS.

    The cursor walks the whole roster, not the filtered list, so a doctor's turn
    does not move when someone else becomes unavailable.
    """
    ordered = sorted({d.rpps for d in roster})
    if not ordered:
        return {}
    start = rr_cursor % len(ordered)
    return {rpps: (i - start) % len(ordered) for i, rpps in enumerate(ordered)}


def signalement_candidates(
    doctors: Sequence[RosterDoctor],
    patient_commune: str | Iterable[str],
    on_date: date,
    already_offered: set[str] | frozenset[str],
    rr_cursor: int,
) -> list[RosterDoctor]:
    """GPs who may be offered a patient without médecin traitant, best first.

    Kept: GPs (SM54/SM26/SM53) who accept new patients, serve the patient's
    commune (INSEE or postal code), are not absent on ``on_date``, have room
    (open offers < capacity) and were not offered this case yet. Order: fewest
    open offers, then round robin from ``rr_cursor``; the caller advances the
    cursor by one per case.
    """
    codes = _codes(patient_commune)
    turn = _round_robin_key(doctors, rr_cursor)
    kept = [
        d
        for d in doctors
        if d.is_gp
        and d.accepts_new_patients
        and codes & {c.strip().upper() for c in d.communes}
        and not is_absent(d, on_date)
        and d.open_offers < d.capacity
        and d.rpps not in already_offered
    ]
    return sorted(kept, key=lambda d: (d.open_offers, turn[d.rpps]))


class TeTargets(BaseModel):
    """Where a télé-expertise request goes, and why, in French for the timeline."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["named", "group", "none"]
    doctors: tuple[RosterDoctor, ...]
    reason_fr: str


def teleexpertise_targets(
    doctors: Sequence[RosterDoctor],
    filiere: str,
    on_date: date,
    requis_rpps: str | None = None,
    acts_by_requis: Mapping[str, int] | None = None,
    max_acts_per_year: int = 4,
) -> TeTargets:
    """The named requis if they are in the filière, present and under quota,
    else the filière's group (present, under quota for this patient).

    ``acts_by_requis`` maps a requis RPPS to the acts they did for this patient
    in the last 12 months.
    """
    acts = acts_by_requis or {}

    def under_quota(d: RosterDoctor) -> bool:
        return acts.get(d.rpps, 0) < max_acts_per_year

    members = sorted((d for d in doctors if d.in_filiere(filiere)), key=lambda d: d.rpps)
    why = ""
    if requis_rpps is not None:
        named = next((d for d in doctors if d.rpps == requis_rpps), None)
        if named is None:
            why = say("routing.te.unknown_requis")
        elif not named.in_filiere(filiere):
            why = say("routing.te.not_in_filiere")
        elif is_absent(named, on_date):
            why = say("routing.te.absent")
        elif not under_quota(named):
            why = say("routing.te.over_quota", max=max_acts_per_year)
        else:
            return TeTargets(
                mode="named",
                doctors=(named,),
                reason_fr=say("routing.te.named"),
            )
    group = tuple(d for d in members if not is_absent(d, on_date) and under_quota(d))
    if not group:
        return TeTargets(
            mode="none",
            doctors=(),
            reason_fr=_sentence(why, say("routing.te.nobody")),
        )
    return TeTargets(
        mode="group",
        doctors=group,
        reason_fr=_sentence(why, say("routing.te.group")),
    )


def _sentence(why: str, then: str) -> str:
    """``"<why> : <then>"``, or ``then`` capitalised when there is no why."""
    return f"{why} : {then}" if why else then[:1].upper() + then[1:]
