from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.commands import parse_command
from tests.parsers.builders import build_signalement_docx, build_signalement_mail


def test_parse_eml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.eml"
    path.write_bytes(build_signalement_mail())
    assert parse_command(path) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["request"]["kind"] == "signalement"
    assert output["request"]["provenance"]["patient.birth_date"]["kind"] == "docx"
    assert output["report_kind"] is None


def test_parse_docx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.docx"
    path.write_bytes(build_signalement_docx())
    assert parse_command(path) == 0
    assert json.loads(capsys.readouterr().out)["request"]["patient"]["family_name"] == "DUPONT"


def test_unreadable_and_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_command(tmp_path / "absent.eml") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    odd = tmp_path / "x.bin"
    odd.write_bytes(b"\x01\x02\x03")
    assert parse_command(odd) == 2
    assert "non pris en charge" in capsys.readouterr().err
