"""`aiguilleur parse FILE` reads the file's type from its content, not from its name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli.commands.parse import sniff_file
from tests.parsers.builders import (
    build_cda,
    build_signalement_docx,
    build_signalement_mail,
    build_signalement_pdf,
    build_xdm_zip,
)

runner = CliRunner()
MAILDIR_NAME = "1700000000.M1P2.host:2,S"


def _parse(path: Path) -> tuple[int, dict[str, Any] | None, str]:
    result = runner.invoke(app, ["parse", str(path)])
    output = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, output, result.stderr


def test_a_maildir_file_is_parsed_as_a_mail(tmp_path: Path) -> None:
    path = tmp_path / "cur" / MAILDIR_NAME
    path.parent.mkdir()
    path.write_bytes(build_signalement_mail())
    code, output, err = _parse(path)
    assert code == 0, err
    assert output is not None
    assert output["envelope"]["from_addr"] == "paul.martin@infirmier.mssante.fr"
    assert output["request"]["kind"] == "signalement"
    assert output["request"]["patient"]["family_name"] == "DUPONT"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (build_signalement_docx(), "docx"),
        (build_signalement_pdf(), "pdf"),
        (build_cda(), "cda"),
        (build_xdm_zip(), "xdm"),
    ],
    ids=["docx", "pdf", "cda", "xdm"],
)
def test_a_document_without_extension_is_parsed_by_its_content(
    tmp_path: Path, data: bytes, kind: str
) -> None:
    path = tmp_path / MAILDIR_NAME
    path.write_bytes(data)
    code, output, err = _parse(path)
    assert code == 0, err
    assert output is not None and output["report_kind"] is None
    assert [a["kind"] for a in output["request"]["attachments"]] == [kind]


def test_the_extension_does_not_decide(tmp_path: Path) -> None:
    pdf_named_eml = tmp_path / "form.eml"
    pdf_named_eml.write_bytes(build_signalement_pdf())
    code, output, err = _parse(pdf_named_eml)
    assert code == 0, err
    assert output is not None and output["request"]["attachments"][0]["kind"] == "pdf"
    cda_named_eml = tmp_path / "cda.eml"
    cda_named_eml.write_bytes(build_cda())
    code, output, err = _parse(cda_named_eml)
    assert code == 0, err
    assert output is not None and output["request"]["attachments"][0]["kind"] == "cda"


def test_text_that_is_not_a_mail_is_refused_in_french(tmp_path: Path) -> None:
    path = tmp_path / "notes.eml"
    path.write_text("Nom: Dupont\nAge: 76\n\nÀ rappeler.\n", encoding="utf-8")
    code, output, err = _parse(path)
    assert code == 2 and output is None
    assert err == f"erreur : type de fichier non pris en charge : {path.name}\n"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"PK\x03\x04rest", "zip"),
        (b"PK\x05\x06" + b"\0" * 18, "zip"),
        (b"%PDF-1.7\n", "pdf"),
        (b"\n\n%PDF-1.4\n", "pdf"),  # a little junk before the header
        (b'<?xml version="1.0"?><ClinicalDocument/>', "xml"),
        (b"\xef\xbb\xbf\n  <ClinicalDocument xmlns='urn:hl7-org:v3'/>", "xml"),
        (b"<cda:ClinicalDocument xmlns:cda='urn:hl7-org:v3'/>", "xml"),
        ('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"), "xml"),
        (b"Return-Path: <a@b.test>\r\nReceived: from x\r\n\tby y\r\n\r\nbody", "mail"),
        (b"From a@b.test Mon Jan  1 00:00:00 2024\nFrom: a@b.test\n\nbody", "mail"),
        (b"   \r\nDelivered-To: a@b.test\r\nSubject: x\r\n", "mail"),  # leading blank space
        (b"Date: x\nFrom: a@b.test\n--boundary\n", "mail"),  # no blank line after the header
        (b"Nom: Dupont\nAge: 76\n\n", None),  # header-like, but no field a mail has
        (b"Bonjour,\nFrom: a@b.test\n", None),  # a header later in the text is not one
        (b"<html><body>x</body></html>", None),
        (b"\xff\xd8\xff\xe0JFIF", None),
        (b"", None),
    ],
)
def test_sniff_file(head: bytes, expected: str | None) -> None:
    assert sniff_file(head) == expected
