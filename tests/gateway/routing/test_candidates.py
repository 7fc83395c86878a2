"""Candidate GPs for a signalement, and télé-expertise targets."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.routing.candidates import signalement_candidates, teleexpertise_targets
from gateway.routing.roster import Absence, RosterDoctor

ON = date(2026, 3, 10)


def doctor(rpps: str, **fields: Any) -> RosterDoctor:
    base: dict[str, Any] = {
        "rpps": rpps,
        "name": f"Dr {rpps}",
        "email": f"dr{rpps}@medecin.mssante.fr",
        "speciality_code": "SM54",
        "accepts_new_patients": True,
        "capacity": 3,
        "open_offers": 0,
        "communes": frozenset({"88160", "88100"}),
    }
    return RosterDoctor(**(base | fields))


def rpps_of(doctors: list[RosterDoctor]) -> list[str]:
    return [d.rpps for d in doctors]


@pytest.mark.parametrize(
    ("case", "fields", "kept"),
    [
        ("ok", {}, True),
        ("SM26 qualifié MG", {"speciality_code": "SM26"}, True),
        ("SM53 spécialiste MG", {"speciality_code": "SM53"}, True),
        ("lower-case code", {"speciality_code": "sm54"}, True),
        ("dermatologist", {"speciality_code": "SM15"}, False),
        ("no speciality", {"speciality_code": None}, False),
        ("closed to new patients", {"accepts_new_patients": False}, False),
        ("other commune", {"communes": frozenset({"75056"})}, False),
        ("at capacity", {"capacity": 2, "open_offers": 2}, False),
        ("no capacity", {"capacity": 0}, False),
        ("absent that day", {"absences": (Absence(start=ON, end=ON),)}, False),
        (
            "absence around the day",
            {"absences": (Absence(start=date(2026, 3, 1), end=date(2026, 3, 31)),)},
            False,
        ),
        (
            "absence ended the day before",
            {"absences": (Absence(start=date(2026, 3, 1), end=date(2026, 3, 9)),)},
            True,
        ),
        (
            "absence starts the day after",
            {"absences": (Absence(start=date(2026, 3, 11), end=date(2026, 3, 20)),)},
            True,
        ),
    ],
)
def test_filters(case: str, fields: dict[str, Any], kept: bool) -> None:
    found = signalement_candidates([doctor("1", **fields)], "88160", ON, set(), 0)
    assert bool(found) is kept, case


def test_already_offered_and_commune_forms() -> None:
    roster = [doctor("1"), doctor("2")]
    assert rpps_of(signalement_candidates(roster, "88160", ON, {"1"}, 0)) == ["2"]
    assert rpps_of(signalement_candidates(roster, ["75056", "88100"], ON, set(), 0)) == ["1", "2"]
    assert signalement_candidates(roster, [], ON, set(), 0) == []
    assert signalement_candidates([], "88160", ON, set(), 5) == []


def test_fewest_open_offers_first() -> None:
    roster = [doctor("1", open_offers=2), doctor("2", open_offers=0), doctor("3", open_offers=1)]
    assert rpps_of(signalement_candidates(roster, "88160", ON, set(), 0)) == ["2", "3", "1"]


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        (0, ["A", "B", "C", "D"]),
        (1, ["B", "C", "D", "A"]),
        (3, ["D", "A", "B", "C"]),
        (4, ["A", "B", "C", "D"]),  # wraps
        (6, ["C", "D", "A", "B"]),
    ],
)
def test_round_robin_among_ties(cursor: int, expected: list[str]) -> None:
    roster = [doctor(r) for r in ("C", "A", "D", "B")]  # roster order does not matter
    assert rpps_of(signalement_candidates(roster, "88160", ON, set(), cursor)) == expected


def test_round_robin_within_each_load_level() -> None:
    roster = [
        doctor("A", open_offers=1),
        doctor("B"),
        doctor("C", open_offers=1),
        doctor("D"),
    ]
    assert rpps_of(signalement_candidates(roster, "88160", ON, set(), 3)) == ["D", "B", "A", "C"]


def test_cursor_walks_the_whole_roster() -> None:
    # B is unavailable: C keeps its turn instead of everybody shifting.
    roster = [doctor("A"), doctor("B", accepts_new_patients=False), doctor("C")]
    assert rpps_of(signalement_candidates(roster, "88160", ON, set(), 2)) == ["C", "A"]
    assert rpps_of(signalement_candidates(roster, "88160", ON, set(), 1)) == ["C", "A"]


def test_successive_cursors_spread_first_offers() -> None:
    roster = [doctor(r) for r in ("A", "B", "C")]
    firsts = [signalement_candidates(roster, "88160", ON, set(), c)[0].rpps for c in range(6)]
    assert firsts == ["A", "B", "C", "A", "B", "C"]


def test_absence_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        Absence(start=date(2026, 3, 2), end=date(2026, 3, 1))


DERMATO = frozenset({"dermatologie"})
TE_ROSTER = [
    doctor("D1", speciality_code="SM15", filieres=DERMATO),
    doctor("D2", speciality_code="SM15", filieres=DERMATO),
    doctor("D3", speciality_code="SM15", filieres=DERMATO, absences=(Absence(start=ON, end=ON),)),
    doctor("O1", speciality_code="SM39", filieres=frozenset({"orl"})),
]


@pytest.mark.parametrize(
    ("case", "requis", "acts", "mode", "targets", "reason"),
    [
        ("named, fine", "D1", {"D1": 3}, "named", ["D1"], "médecin requis indiqué"),
        ("named at quota", "D1", {"D1": 4}, "group", ["D2"], "plafond de 4"),
        ("named not in filière", "O1", {}, "group", ["D1", "D2"], "ne fait pas partie"),
        ("named unknown", "X9", {}, "group", ["D1", "D2"], "pas connu"),
        ("named absent", "D3", {}, "group", ["D1", "D2"], "absent"),
        ("group", None, {}, "group", ["D1", "D2"], "groupe de la filière"),
        ("group skips doctors at quota", None, {"D2": 4}, "group", ["D1"], "groupe"),
        ("nobody left", "D1", {"D1": 4, "D2": 5}, "none", [], "coordinateur"),
    ],
)
def test_teleexpertise_targets(
    case: str,
    requis: str | None,
    acts: dict[str, int],
    mode: str,
    targets: list[str],
    reason: str,
) -> None:
    result = teleexpertise_targets(
        TE_ROSTER, "Dermatologie", ON, requis_rpps=requis, acts_by_requis=acts
    )
    assert result.mode == mode, case
    assert [d.rpps for d in result.doctors] == targets
    assert reason in result.reason_fr
    assert result.reason_fr[0].isupper()


def test_teleexpertise_unknown_filiere_is_nobody() -> None:
    result = teleexpertise_targets(TE_ROSTER, "cardiologie", ON)
    assert result.mode == "none"
    assert result.reason_fr.startswith("Aucun médecin")
