"""`aiguilleur export billing --month YYYY-MM`: the month's TE2/RQD acts as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from tests.gateway.cli.commands.site import (
    MOREAU,
    ROUX_EMAIL,
    Site,
    add_act,
    add_case,
    make_site,
    run_cli,
    session_for,
)

HEADER = "date_acte;code_acte;rpps;nom;messagerie;filiere;reference_dossier;tarif_eur"


def _seed(site: Site) -> None:
    """Acts around March 2025, inserted out of order."""
    acts = [
        # reference, performed_on
        ("AIG-2025-000007", date(2025, 3, 31)),
        ("AIG-2025-000003", date(2025, 3, 1)),
        ("AIG-2025-000005", date(2025, 3, 14)),
        ("AIG-2025-000004", date(2025, 3, 14)),
        ("AIG-2025-000002", date(2025, 2, 28)),  # the month before
        ("AIG-2025-000008", date(2025, 4, 1)),  # the month after
        ("AIG-2024-000009", date(2024, 3, 14)),  # the same month, a year before
    ]
    with session_for(site) as session:
        for reference, day in acts:
            case_id = add_case(session, reference)
            add_act(session, case_id, "RQD", day, patient_key="p", professional_rpps="10000000005",
                    email=ROUX_EMAIL, name='Dr Anne "Nanou" Roux; Gérardmer')  # fmt: skip
            add_act(session, case_id, "TE2", day, patient_key="p")
        session.commit()


def _expected_march() -> str:
    rqd = '10000000005;"Dr Anne ""Nanou"" Roux; Gérardmer";anne.roux@medecin.mssante.test'
    te2 = f"{MOREAU};Dr Marc Moreau;marc.moreau@medecin.test"
    lines = [HEADER]
    for day, reference in (
        ("2025-03-01", "AIG-2025-000003"),
        ("2025-03-14", "AIG-2025-000004"),
        ("2025-03-14", "AIG-2025-000005"),
        ("2025-03-31", "AIG-2025-000007"),
    ):
        lines.append(f"{day};RQD;{rqd};dermatologie;{reference};10,00")
        lines.append(f"{day};TE2;{te2};dermatologie;{reference};20,00")
    return "\r\n".join(lines) + "\r\n"


def _export(month: str, *options: str) -> tuple[int, str, str]:
    return run_cli("export", "billing", "--month", month, *options)


@pytest.fixture
def seeded(tmp_path: Path) -> Site:
    site = make_site(tmp_path, with_database=True)
    _seed(site)
    return site


def test_export_to_a_file(seeded: Site, tmp_path: Path) -> None:
    output = tmp_path / "facturation-2025-03.csv"
    code, out, err = _export("2025-03", "--config", str(seeded.config), "-o", str(output))
    assert code == 0, err
    assert out == ""
    assert "8 acte(s) exporté(s)" in err
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    assert raw.decode("utf-8-sig") == _expected_march()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter=";"))
    assert rows[0]["nom"] == 'Dr Anne "Nanou" Roux; Gérardmer'
    assert {r["code_acte"] for r in rows} == {"TE2", "RQD"}


def test_export_to_stdout(seeded: Site) -> None:
    code, out, err = _export("2025-03", "-c", str(seeded.config))
    assert code == 0, err
    assert out.replace("\r\n", "\n") == "\ufeff" + _expected_march().replace("\r\n", "\n")


def test_a_month_without_acts_has_the_header_only(seeded: Site, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    code, _out, err = _export("2025-05", "-c", str(seeded.config), "-o", str(output))
    assert code == 0, err
    assert output.read_bytes().decode("utf-8-sig") == HEADER + "\r\n"
    assert "0 acte(s)" in err


def test_february_of_a_leap_year_ends_on_the_29th(tmp_path: Path) -> None:
    site = make_site(tmp_path, with_database=True)
    with session_for(site) as session:
        for i, day in enumerate((date(2024, 2, 29), date(2024, 3, 1)), 1):
            add_act(session, add_case(session, f"AIG-2024-00000{i}"), "TE2", day, patient_key="p")
        session.commit()
    code, out, err = _export("2024-02", "-c", str(site.config))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("2024-02-29;TE2;")


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "2025-3", "25-03", "mars", "2025/03", ""])
def test_invalid_month_exits_2(tmp_path: Path, month: str) -> None:
    site = make_site(tmp_path, with_database=True)
    code, out, err = _export(month, "-c", str(site.config))
    assert code == 2
    assert out == ""
    assert "mois invalide" in err and "AAAA-MM" in err


def test_missing_database_exits_2_without_creating_it(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    code, out, err = _export("2025-03", "-c", str(site.config))
    assert code == 2
    assert out == ""
    assert "base de données absente" in err
    assert not site.database.exists()


def test_missing_config_exits_2(tmp_path: Path) -> None:
    code, _out, err = _export("2025-03", "-c", str(tmp_path / "absent.toml"))
    assert code == 2
    assert "cannot read configuration file" in err
