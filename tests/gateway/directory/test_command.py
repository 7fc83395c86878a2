from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.commands.directory import directory_import_command
from gateway.storage.db import upgrade
from tests.gateway.directory.builders import MSS_HEADER, PA_HEADER, mss_row, pa_row, write_extract


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'aiguilleur.db'}"
    upgrade(url)
    return url


def test_imports_both_kinds_and_prints_a_summary(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pa = write_extract(tmp_path / "a.txt", PA_HEADER, [pa_row(), pa_row("123")])
    mss = write_extract(tmp_path / "b.txt", MSS_HEADER, [mss_row("x@medecin.mssante.fr")])
    assert directory_import_command([pa, mss], database_url, quiet=True) == 0
    out, err = capsys.readouterr()
    assert "a.txt (personne_activite, utf-8) : 2 lignes" in out
    assert "insérées 1" in out and "rejetées 1" in out
    assert "b.txt (mssante, utf-8) : 1 lignes" in out
    assert err == ""
    assert "MARTIN" not in out


def test_unreadable_or_unknown_file_exits_2_with_one_line(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_extract(tmp_path / "a.txt", PA_HEADER, [pa_row()])
    assert directory_import_command([good, tmp_path / "absent.txt"], database_url, True) == 2
    _out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("erreur : lecture impossible")
    other = tmp_path / "notes.txt"
    other.write_text("bonjour|monde|\n", encoding="utf-8")
    assert directory_import_command([other], database_url, True) == 2
    _out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "type d'extraction non reconnu" in err
    truncated = tmp_path / "PS_LibreAcces_Personne_activite_x.txt"
    truncated.write_text("Type d'identifiant PP|Identifiant PP|\n", encoding="utf-8")
    assert directory_import_command([truncated], database_url, True) == 2
    _out, err = capsys.readouterr()
    assert "colonne(s) absente(s)" in err and err.count("\n") == 1


def test_unmigrated_database_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_extract(tmp_path / "a.txt", PA_HEADER, [pa_row()])
    assert directory_import_command([good], f"sqlite:///{tmp_path / 'empty.db'}", True) == 1
    _out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "aiguilleur db upgrade" in err
