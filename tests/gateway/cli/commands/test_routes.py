"""`aiguilleur routes`: the mailbox → programme → rules → routing table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.cli.demo_routing import DemoDoctor
from tests.gateway.cli.commands.site import ADDRESSES, DAC_TEAM, DOCTORS, make_site, run_cli


def _routes_json(*args: str) -> dict[str, Any]:
    code, out, err = run_cli("routes", "--json", *args)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _route(data: dict[str, Any], programme: str) -> dict[str, Any]:
    return next(r for r in data["routes"] if r["programme"] == programme)


def test_json_lists_every_mailbox_with_its_rules_in_order(tmp_path: Path) -> None:
    site = make_site(
        tmp_path,
        extra_programmes='[tele_expertise.params.sender_verified]\npolicy = "accept"\n',
    )
    data = _routes_json("--config", str(site.config))
    assert [(r["mailbox"], r["address"], r["programme"]) for r in data["routes"]] == [
        ("sig", ADDRESSES["signalement"], "signalement"),
        ("te", ADDRESSES["tele_expertise"], "tele_expertise"),
        ("dac", ADDRESSES["appui_dac"], "appui_dac"),
        ("mr", ADDRESSES["medecin_referent"], "medecin_referent"),
    ]
    signalement = _route(data, "signalement")
    assert [r["rule_id"] for r in signalement["rules"]] == [
        "sender_verified",
        "reporter_is_professional",
        "patient_in_territory",
        "no_medecin_traitant",
        "situation_eligible",
    ]
    territory = signalement["rules"][2]["params"]
    assert territory == {
        "insee_codes": ["88196", "88383", "88413"],
        "postal_codes": ["88100", "88200", "88400"],
        "communes": [],
    }
    situation = signalement["rules"][4]["params"]
    assert situation["older_than_years"] == 70
    assert situation["child_max_months"] == 18
    assert signalement["sender_policy"] == "accept"
    assert "48 h" in signalement["routing_fr"]
    assert "coordination@cpts-vosges.test" in signalement["routing_fr"]

    te = _route(data, "tele_expertise")
    assert te["sender_policy"] == "accept"  # the override is shown, not the default
    params = {r["rule_id"]: r["params"] for r in te["rules"]}
    assert params["te_quota_per_patient"] == {"max_acts_per_year": 4, "fallback_to_group": True}
    assert "dermatologie" in params["filiere_open"]["open_filieres"]
    assert "dermatologie (2)" in te["routing_fr"]

    assert DAC_TEAM in _route(data, "appui_dac")["routing_fr"]
    assert "médecin déclarant" in _route(data, "medecin_referent")["routing_fr"]
    assert data["routing"]["offer_deadline_hours"] == 48


def test_roster_counts(tmp_path: Path) -> None:
    doctors = (
        *DOCTORS,
        DemoDoctor("10000000007", "Dr Léa Simon", "lea.simon@medecin.test", capacity=0),
    )
    site = make_site(tmp_path, doctors=doctors)
    roster = _routes_json("--config", str(site.config))["roster"]
    assert roster == {
        "doctors": 7,
        "gps": 4,  # SM54 by default, requérant Dr Roux included
        "gps_accepting_new_patients": 2,  # Dr Simon has no capacity, Dr Roux takes nobody
        "absent_today": 0,
        "non_members": 0,
        "requis_by_filiere": {"dermatologie": 2, "orl": 1},
    }


def test_without_config_every_programme_is_listed_with_defaults(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    data = _routes_json()
    assert [r["programme"] for r in data["routes"]] == [
        "signalement",
        "tele_expertise",
        "appui_dac",
        "medecin_referent",
    ]
    assert all(r["mailbox"] is None for r in data["routes"])
    assert _route(data, "tele_expertise")["sender_policy"] == "reject"
    assert "Aucune équipe DAC configurée" in _route(data, "appui_dac")["routing_fr"]
    assert data["roster"]["doctors"] == 0
    assert list(tmp_path.iterdir()) == []


def test_programmes_without_a_mailbox_still_show(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = site.config.read_text()
    # Keep the first mailbox only.
    site.config.write_text(
        config.split("[[mailboxes]]")[0] + "[[mailboxes]]" + config.split("[[mailboxes]]")[1]
    )
    data = _routes_json("--config", str(site.config))
    assert [(r["mailbox"], r["programme"]) for r in data["routes"]] == [
        ("sig", "signalement"),
        (None, "tele_expertise"),
        (None, "appui_dac"),
        (None, "medecin_referent"),
    ]


def test_table_shows_mailboxes_rules_and_routing(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, out, err = run_cli("routes", "--config", str(site.config))
    assert code == 0, err
    for expected in (
        "signalement@cpts-vosges.test",
        "tele_expertise",
        "patient_in_territory",
        "88400",
        "policy : reject",
        "ald_list : 1–32",
        "48 h",
        DAC_TEAM,
        "Registre : 6 médecin(s)",
        "dermatologie : 2",
    ):
        assert expected in out, expected


def test_invalid_roster_exits_2(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    (site.directory / "roster.toml").write_text('[[doctors]]\nrpps = "12"\n')
    code, out, err = run_cli("routes", "--config", str(site.config))
    assert code == 2
    assert out == ""
    assert err.startswith("erreur : ") and "doctors[0]" in err


def test_invalid_programmes_exits_2(tmp_path: Path) -> None:
    site = make_site(tmp_path, extra_programmes="[signalement.params.nope]\nx = 1\n")
    code, _out, err = run_cli("routes", "--json", "--config", str(site.config))
    assert code == 2
    assert "signalement.params.nope" in err
