"""Every corpus file parses with no exception escaping, within 5 s."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from parsers import parse_document, parse_message
from parsers.documents import sniff_document
from parsers.prose import warm_up
from parsers.request import RequestKind

pytestmark = pytest.mark.corpus

_MAIL_SUFFIXES = (".eml", ".txt")


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def test_every_corpus_file_parses(corpus: Path) -> None:
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file() and p.name != "SOURCES.md"]
    assert len(files) > 90
    warm_up()  # the NLP pipeline loads once per process, not per message: time messages only
    slow: list[str] = []
    for path in files:
        data = path.read_bytes()
        started = time.perf_counter()
        if path.suffix.lower() in _MAIL_SUFFIXES and sniff_document(path.name, data) == "eml":
            parsed = parse_message(data)
            parsed.model_dump_json()
        else:
            parse_document(path.name, data).model_dump_json()
        if time.perf_counter() - started > 5:
            slow.append(path.name)
    assert not slow


def test_unzipped_xdm_folders(corpus: Path) -> None:
    for folder in (corpus / "nist-xdm" / "testkit-11965", corpus / "ans-drimbox-xdm" / "KA202401"):
        request = parse_document("IHE_XDM.ZIP", _zip_folder(folder))
        request.model_dump_json()
    ans = parse_document("IHE_XDM.ZIP", _zip_folder(corpus / "ans-drimbox-xdm" / "KA202401"))
    assert "xdm.metadata_soap" in {p.code for p in ans.problems}
    assert ans.patient.ins == "162018885045327"


def test_ans_cda_identity(corpus: Path) -> None:
    path = corpus / "ans-cda" / "LDL-SES_2022.01.xml"
    request = parse_document(path.name, path.read_bytes())
    patient = request.patient
    assert patient.ins == "279035121518989"
    assert patient.ins_kind == "test"
    assert patient.ins_oid == "1.2.250.1.213.1.4.10"
    assert patient.family_name == "PAT-TROIS"
    assert patient.given_names[:1] == ["DOMINIQUE"]
    assert str(patient.birth_date) == "1979-03-28"
    assert patient.sex == "F"
    assert request.provenance["patient.ins"].kind == "cda"


def test_ans_teleexpertise_cda(corpus: Path) -> None:
    path = next((corpus / "ans-cda").glob("TLM-DA_2022.01_TE1_*.xml"))
    request = parse_document(path.name, path.read_bytes())
    assert request.kind is RequestKind.TELE_EXPERTISE
    consultation = parse_document(
        "x.xml", (corpus / "ans-cda" / "TLM-DA_2022.01_TCG.xml").read_bytes()
    )
    assert consultation.kind is not RequestKind.TELE_EXPERTISE


def test_level1_cda_pdf_body(corpus: Path) -> None:
    path = corpus / "ans-cda" / "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"
    request = parse_document(path.name, path.read_bytes())
    assert "cda.body_unreadable" not in {p.code for p in request.problems}


def test_corpus_mail_classification(corpus: Path) -> None:
    cases = {
        "cpython-email/msg_16.txt": "dsn",
        "flanker-email/disposition-notification.eml": "mdn",
        "directproject-email/MDNMessage.txt": "mdn",
        "ans-mssante-email/struct-msg-mdn.example.2025.eml": "mdn",
    }
    for name, expected in cases.items():
        assert parse_message((corpus / name).read_bytes()).report_kind == expected, name
    tnef = parse_message((corpus / "mimekit-email" / "ukr.eml").read_bytes())
    assert "mime.tnef" in {p.code for p in tnef.request.problems}
    encrypted = parse_message(
        (corpus / "directproject-email" / "EncryptedMessage.txt").read_bytes()
    )
    assert "mime.smime_encrypted" in {p.code for p in encrypted.request.problems}


def test_corpus_pdf_checkbox_on_states(corpus: Path) -> None:
    from parsers.limits import ParseLimits
    from parsers.pdf_form import pdf_extraction

    extraction = pdf_extraction(
        (corpus / "pdfjs-acroform" / "bug1675139.pdf").read_bytes(), "b.pdf", ParseLimits()
    )
    assert any(f.value == "☒" for f in extraction.raw_fields)


def test_parse_command_on_every_corpus_file(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`aiguilleur parse FILE`: exit 0, or 2 with one clear line, never a traceback."""
    from gateway.cli.commands import parse_command

    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.name == "SOURCES.md":
            continue
        code = parse_command(path)
        captured = capsys.readouterr()
        assert code in (0, 2), path
        assert "Traceback" not in captured.err
        if code == 2:
            assert captured.err.count("\n") == 1 and "erreur" in captured.err, path
        else:
            assert captured.out.lstrip().startswith("{"), path
