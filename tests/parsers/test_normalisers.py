from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.normalise.addresses import is_patient_mailbox, normalise_address
from parsers.normalise.dates import format_french, parse_date
from parsers.normalise.geo import normalise_insee_code, normalise_postal_code
from parsers.normalise.ins import check_ins, ins_key
from parsers.normalise.phones import normalise_phone
from parsers.normalise.referentials import ald_numbers, match_filiere, match_profession
from parsers.normalise.yesno import parse_yes_no
from parsers.text import has_tick, is_ticked


def test_ans_test_ins_verifies() -> None:
    assert check_ins("279035121518989") == ("279035121518989", "ok")
    assert check_ins("2 79 03 51 215 189 89")[1] == "ok"
    assert check_ins("279035121518988")[1] == "invalid_key"
    assert check_ins("27903512151898")[1] == "invalid"


def test_corsica_substitution_only_at_department() -> None:
    first13 = "185012A123456"
    assert ins_key(first13) == 97 - (int("1850119123456") % 97)
    assert check_ins(first13 + f"{ins_key(first13):02d}")[1] == "ok"


_ins_body = st.builds(
    lambda sex, year, month, dept, rest: f"{sex}{year:02d}{month:02d}{dept}{rest:06d}",
    st.sampled_from("1278"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "2A", "2B", "13", "99"]),
    st.integers(0, 999_999),
)


@given(_ins_body)
def test_generated_ins_verifies(first13: str) -> None:
    assert check_ins(first13 + f"{ins_key(first13):02d}")[1] == "ok"


@given(_ins_body, st.integers(0, 14), st.integers(1, 9))
def test_single_digit_change_fails(first13: str, position: int, delta: int) -> None:
    valid = first13 + f"{ins_key(first13):02d}"
    if not valid[position].isdigit() or (position in (5, 6) and not valid[5:7].isdigit()):
        return
    changed = valid[:position] + str((int(valid[position]) + delta) % 10) + valid[position + 1 :]
    assert check_ins(changed)[1] != "ok"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_date_formats_round_trip(value: date) -> None:
    for text in (
        value.strftime("%d/%m/%Y"),
        value.strftime("%Y-%m-%d"),
        value.strftime("%Y%m%d"),
        format_french(value),
        value.strftime("%d.%m.%Y"),
    ):
        assert parse_date(text) == value, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12-03-50", date(1950, 3, 12)),
        ("12 mars 1950", date(1950, 3, 12)),
        ("1er août 2001", date(2001, 8, 1)),
        ("19790328", date(1979, 3, 28)),
        ("31/02/2000", None),
        ("demain", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text, today=date(2025, 1, 1)) == expected


def test_postal_and_insee() -> None:
    assert normalise_postal_code("75 007") == "75007"
    assert normalise_postal_code("7500") == "07500"
    assert normalise_postal_code("00123") is None
    assert normalise_insee_code("2a004") == "2A004"
    assert normalise_insee_code("51215") == "51215"
    assert normalise_insee_code("ABCDE") is None


def test_phones() -> None:
    assert normalise_phone("06 47 15 10 10") == "+33647151010"
    assert normalise_phone("+33 1 44 53 45 51") == "+33144534551"
    assert normalise_phone("tel:0144534551") == "+33144534551"
    assert normalise_phone("12") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oui", True),
        ("Non", False),
        ("X", True),
        ("☒", True),
        ("☐", False),
        ("☒ Oui ☐ Non", True),
        ("☐ Oui ☒ Non", False),
        ("[X] oui [ ] non", True),
        ("coché", True),
        ("peut-être", None),
        ("", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def test_referentials() -> None:
    assert match_profession("Infirmière libérale") == "60"
    assert match_profession("Masseur-kinésithérapeute") == "70"
    assert match_filiere("Gastro-entérologie") == "gastro_enterologie"
    assert match_filiere("ORL") == "orl"
    assert match_filiere("chirurgie bilio-pancréatique") == "bilio_pancreatique"
    assert ald_numbers("ALD 8 (diabète)") == [8]
    assert ald_numbers("ALD n°30 et Parkinson") == [16, 30]
    assert ald_numbers("8, 30", bare_numbers=True) == [8, 30]


def test_addresses_are_bare_and_lower_case() -> None:
    assert normalise_address("  <A.B@X.FR> ") == "a.b@x.fr"
    assert normalise_address("Dr X <X@Medecin.MSSante.fr>") == "x@medecin.mssante.fr"
    assert normalise_address("no address") == ""
    assert is_patient_mailbox("x@patient.mssante.fr")
    assert is_patient_mailbox("Mme Y <y@sub.patient.mssante.fr>")
    assert not is_patient_mailbox("x@patient.mssante.fr.example.com")


@pytest.mark.parametrize(
    ("text", "tick", "ticked"),
    [
        ("☒ oui ☐ non", True, True),
        ("☐ oui ☐ non", True, False),
        ("✔", True, True),
        ("□ ORL", True, False),
        ("oui", False, False),
        ("", False, False),
    ],
)
def test_tick_boxes_are_found_ticked_or_not(text: str, tick: bool, ticked: bool) -> None:
    assert has_tick(text) is tick
    assert is_ticked(text) is ticked
