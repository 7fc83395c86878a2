"""Programmes as data: the defaults, CPTS overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.filiere_open import DEFAULT_FILIERES, FiliereOpenParams
from rules.patient_in_territory import TerritoryParams
from rules.programmes import (
    PROGRAMME_NAMES,
    ProgrammeConfigError,
    load_programmes,
    programmes_from_mapping,
)
from rules.registry import RULES
from rules.requerant_profession_allowed import RequerantProfessionParams
from rules.situation_eligible import SituationParams
from rules.te_quota_per_patient import TeQuotaParams

EXPECTED_RULES = {
    "signalement": (
        "sender_verified",
        "reporter_is_professional",
        "patient_in_territory",
        "no_medecin_traitant",
        "situation_eligible",
    ),
    "tele_expertise": (
        "sender_verified",
        "reporter_is_professional",
        "requerant_profession_allowed",
        "filiere_open",
        "consent_given",
        "requis_in_filiere",
        "te_quota_per_patient",
        "requerant_yearly_limit",
    ),
    "appui_dac": ("sender_verified", "dac_requester", "dac_complexity"),
    "medecin_referent": (
        "sender_verified",
        "reporter_is_professional",
        "ald_in_list",
        "dsp_active",
    ),
}


def test_defaults_follow_domain() -> None:
    programmes = load_programmes()
    assert set(programmes) == set(PROGRAMME_NAMES)
    for name, spec in programmes.items():
        assert spec.rule_ids == EXPECTED_RULES[name]
        assert spec.label_fr
    te = programmes["tele_expertise"]
    filieres = te.step("filiere_open")
    assert filieres is not None and isinstance(filieres.params, FiliereOpenParams)
    assert filieres.params.open_filieres == DEFAULT_FILIERES
    quota = te.step("te_quota_per_patient")
    # Issue 4: a named requis at quota or outside the filière falls back to the group.
    assert quota is not None
    assert quota.params == TeQuotaParams(max_acts_per_year=4, fallback_to_group=True)
    named = te.step("requis_in_filiere")
    assert named is not None and getattr(named.params, "fallback_to_group", None) is True
    prof = te.step("requerant_profession_allowed")
    assert prof is not None and isinstance(prof.params, RequerantProfessionParams)
    assert prof.params.allowed_professions == {"10", "50", "60", "70", "80", "91"}
    situation = programmes["signalement"].step("situation_eligible")
    assert situation is not None and situation.params == SituationParams()
    ald = programmes["medecin_referent"].step("ald_in_list")
    assert ald is not None and ald.params.model_dump() == {"ald_list": frozenset(range(1, 33))}


def test_every_rule_has_a_french_description_and_default_params() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.description.endswith(".")
        rule.default_params()  # every parameter has a default


def test_cpts_override_file(tmp_path: Path) -> None:
    path = tmp_path / "cpts.toml"
    path.write_text(
        """
[signalement.params.patient_in_territory]
insee_codes = ["88160", "88215"]

[signalement.params.situation_eligible]
older_than_years = 75

[tele_expertise]
rules = ["sender_verified", "requerant_profession_allowed", "filiere_open", "consent_given"]

[tele_expertise.params.requerant_profession_allowed]
members_only = true

[tele_expertise.params.filiere_open]
open_filieres = ["orl", "medecine_generale"]
""",
        encoding="utf-8",
    )
    programmes = load_programmes(path)
    territory = programmes["signalement"].step("patient_in_territory")
    assert territory is not None
    assert territory.params == TerritoryParams(insee_codes=frozenset({"88160", "88215"}))
    situation = programmes["signalement"].step("situation_eligible")
    assert situation is not None and isinstance(situation.params, SituationParams)
    assert situation.params.older_than_years == 75
    assert situation.params.child_max_months == 18  # merged, not replaced
    te = programmes["tele_expertise"]
    assert te.rule_ids == (
        "sender_verified",
        "requerant_profession_allowed",
        "filiere_open",
        "consent_given",
    )
    sender = te.step("sender_verified")
    assert sender is not None and sender.params.model_dump() == {"policy": "reject"}
    prof = te.step("requerant_profession_allowed")
    assert prof is not None and isinstance(prof.params, RequerantProfessionParams)
    assert prof.params.members_only is True
    assert programmes["appui_dac"].rule_ids == EXPECTED_RULES["appui_dac"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"cpts": {}}, "cpts: a new programme must declare label_fr, routing, rules"),
        (
            {"cpts": {"label_fr": "X", "routing": "gp_offers", "rules": ["nope.nope:RULE"]}},
            "cannot import 'nope.nope:RULE'",
        ),
        (
            {"cpts": {"label_fr": "X", "routing": "gp_offers", "rules": ["rules.registry:RULES"]}},
            "'rules.registry:RULES' is not a rule",
        ),
        (
            {"signalement": {"rules": ["no_such_rule"]}},
            "signalement.rules: unknown rule 'no_such_rule'",
        ),
        ({"signalement": {"rules": "sender_verified"}}, "signalement.rules: expected a list"),
        ({"signalement": {"rules": []}}, "signalement.rules: a programme needs at least one rule"),
        (
            {"signalement": {"rules": ["dsp_active", "dsp_active"]}},
            "signalement.rules: rule listed twice: dsp_active",
        ),
        ({"signalement": {"colour": "blue"}}, "signalement.colour: unknown key"),
        (
            {"signalement": {"params": {"situation_eligible": {"older_than_years": "old"}}}},
            "signalement.params.situation_eligible.older_than_years",
        ),
        (
            {"signalement": {"params": {"situation_eligible": {"oldest": 3}}}},
            "signalement.params.situation_eligible.oldest: Extra inputs are not permitted",
        ),
        (
            {"signalement": {"params": {"situation_eligible": {"criteria": ["jeune"]}}}},
            "signalement.params.situation_eligible.criteria",
        ),
        (
            {"signalement": {"params": {"dsp_active": {}}}},
            "signalement.params.dsp_active: rule not in signalement.rules",
        ),
        (
            {"tele_expertise": {"params": {"te_quota_per_patient": {"max_acts_per_year": 0}}}},
            "tele_expertise.params.te_quota_per_patient.max_acts_per_year",
        ),
        (
            {"tele_expertise": {"params": {"requerant_yearly_limit": {"limits": {"10": -1}}}}},
            "tele_expertise.params.requerant_yearly_limit.limits.10",
        ),
        (
            {"tele_expertise": {"params": {"sender_verified": {"policy": "maybe"}}}},
            "tele_expertise.params.sender_verified.policy",
        ),
        ({"appui_dac": {"params": "x"}}, "appui_dac.params: expected a table"),
    ],
)
def test_bad_override_names_the_key(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ProgrammeConfigError) as caught:
        programmes_from_mapping(override, origin="cpts.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("cpts.toml: ")


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ProgrammeConfigError, match="cannot read programmes file"):
        load_programmes(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[signalement\n", encoding="utf-8")
    with pytest.raises(ProgrammeConfigError, match="TOML syntax error"):
        load_programmes(broken)


def test_a_bad_programmes_file_is_a_gateway_config_error(tmp_path: Path) -> None:
    from gateway.cases.services import RoutingServices
    from gateway.config import Config
    from gateway.errors import ConfigError

    broken = tmp_path / "programmes.toml"
    broken.write_text("[signalement\n", encoding="utf-8")
    config = Config.model_validate({"routing": {"programmes_path": str(broken)}})
    with pytest.raises(ConfigError, match="TOML syntax error"):
        RoutingServices.load(config)


def test_an_empty_territory_is_reported_as_unconfigured_until_it_is_set() -> None:
    defaults = programmes_from_mapping({})
    assert defaults["signalement"].unconfigured() == [
        ("patient_in_territory", ("insee_codes", "postal_codes"))
    ]
    assert all(not spec.unconfigured() for n, spec in defaults.items() if n != "signalement")
    for key, codes in (("postal_codes", ["88400"]), ("insee_codes", ["88196"])):
        set_up = programmes_from_mapping(
            {"signalement": {"params": {"patient_in_territory": {key: codes}}}}
        )
        assert set_up["signalement"].unconfigured() == []


def test_the_example_programmes_file_loads_and_leaves_nothing_unconfigured() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "programmes.example.toml"
    specs = load_programmes(example)
    territory = specs["signalement"].step("patient_in_territory")
    assert territory is not None and isinstance(territory.params, TerritoryParams)
    assert "88400" in territory.params.postal_codes
    assert all(not spec.unconfigured() for spec in specs.values())
