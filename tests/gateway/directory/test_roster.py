from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.directory.roster import RosterError, load_roster, parse_roster
from gateway.errors import ConfigError
from gateway.routing.roster import Absence, RosterDoctor

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "roster.example.toml"


def _doctor(**overrides: Any) -> dict[str, Any]:
    doctor: dict[str, Any] = {
        "rpps": "10001045367",
        "name": "Dr Jeanne Martin",
        "email": "Jeanne.Martin@medecin.mssante.fr",
        "speciality": "sm54",
        "filieres": ["ORL"],
        "accepts_new_patients": True,
        "capacity": 2,
        "communes": ["35238", "35000", "2a004"],
        "absences": [{"start": date(2026, 12, 21), "end": date(2027, 1, 3)}],
        "cpts_member": False,
    }
    doctor.update(overrides)
    return doctor


def test_the_example_file_loads() -> None:
    doctors = load_roster(EXAMPLE)
    assert len(doctors) == 2
    assert all(isinstance(d, RosterDoctor) for d in doctors)
    assert doctors[0].is_gp and doctors[0].accepts_new_patients
    assert doctors[1].in_filiere("orl")


def test_entries_become_roster_doctors() -> None:
    (doctor,) = parse_roster({"doctors": [_doctor()]})
    assert doctor == RosterDoctor(
        rpps="10001045367",
        name="Dr Jeanne Martin",
        email="jeanne.martin@medecin.mssante.fr",
        speciality_code="SM54",
        accepts_new_patients=True,
        capacity=2,
        communes=frozenset({"35238", "35000", "2A004"}),
        absences=(Absence(start=date(2026, 12, 21), end=date(2027, 1, 3)),),
        filieres=frozenset({"ORL"}),
        cpts_member=False,
    )


def test_an_empty_roster_is_allowed() -> None:
    assert parse_roster({}) == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capacity": -1}, "roster.toml: doctors[1].capacity: doit être positif ou nul"),
        ({"capacity": "trois"}, "roster.toml: doctors[1].capacity: nombre entier attendu"),
        ({"rpps": "123"}, "roster.toml: doctors[1].rpps: un RPPS a 11 chiffres"),
        ({"rpps": 10001045368}, "roster.toml: doctors[1].rpps: texte attendu"),
        ({"email": "nobody"}, "roster.toml: doctors[1].email: adresse de messagerie invalide"),
        ({"speciality": "54"}, "roster.toml: doctors[1].speciality: code savoir-faire"),
        ({"communes": ["35238", "Rennes"]}, "roster.toml: doctors[1].communes: [1] « RENNES »"),
        ({"capcity": 3}, "roster.toml: doctors[1].capcity: clé inconnue"),
        ({"name": ""}, "roster.toml: doctors[1].name: ne doit pas être vide"),
        (
            {"absences": [{"start": date(2026, 5, 2), "end": date(2026, 5, 1)}]},
            "roster.toml: doctors[1].absences[0].end: antérieure à start",
        ),
        (
            {"absences": [{"start": "demain", "end": date(2026, 5, 1)}]},
            "roster.toml: doctors[1].absences[0].start: date attendue",
        ),
        (
            {"accepts_new_patients": True, "communes": []},
            "roster.toml: doctors[1].communes: au moins une commune",
        ),
    ],
)
def test_errors_name_the_key(change: dict[str, Any], message: str) -> None:
    other = _doctor(rpps="10009999999", email="other@medecin.mssante.fr")
    data = {"doctors": [other, _doctor(**change)]}
    with pytest.raises(RosterError) as caught:
        parse_roster(data)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ConfigError)


def test_missing_key_and_duplicates_are_named() -> None:
    missing = _doctor()
    del missing["email"]
    with pytest.raises(RosterError, match=r"^roster.toml: doctors\[0\].email: clé obligatoire"):
        parse_roster({"doctors": [missing]})
    with pytest.raises(RosterError, match=r"doctors\[1\].rpps: déjà utilisé par doctors\[0\]"):
        parse_roster({"doctors": [_doctor(), _doctor(email="x@y.fr")]})
    with pytest.raises(RosterError, match=r"doctors\[1\].email: déjà utilisée par doctors\[0\]"):
        parse_roster({"doctors": [_doctor(), _doctor(rpps="10009999999")]})
    with pytest.raises(RosterError, match=r"^roster.toml: cpts: clé inconnue"):
        parse_roster({"cpts": {}, "doctors": []})


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "equipe.toml"
    bad.write_text("[[doctors]]\nrpps = \n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"^equipe.toml: TOML invalide"):
        load_roster(bad)
    with pytest.raises(RosterError, match=r"^absent.toml: illisible"):
        load_roster(tmp_path / "absent.toml")
    wrong = tmp_path / "roster.toml"
    wrong.write_text('[[doctors]]\nrpps = "1"\nname = "X"\nemail = "x@y.fr"\n', encoding="utf-8")
    with pytest.raises(RosterError, match=r"^roster.toml: doctors\[0\].rpps"):
        load_roster(wrong)
