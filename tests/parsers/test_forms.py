from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from parsers import parse_document, parse_message
from parsers.pdf_form import has_no_eof_marker
from parsers.request import RequestKind
from tests.parsers.builders import (
    build_cda,
    build_signalement_docx,
    build_signalement_docx_paragraphs,
    build_signalement_mail,
    build_signalement_pdf,
    build_teleexpertise_docx,
    build_teleexpertise_mail,
    build_xdm_zip,
)


def _check_signalement(data: bytes, name: str) -> None:
    request = parse_document(name, data)
    assert request.kind is RequestKind.SIGNALEMENT
    assert request.patient.family_name == "DUPONT"
    assert request.patient.given_names == ["Marie"]
    assert request.patient.birth_date == date(1950, 3, 12)
    assert request.patient.ins == "279035121518989"
    assert request.patient.postal_code == "75007"
    assert request.patient.has_medecin_traitant is False
    assert request.situation.ald == [8]
    assert request.situation.sortie_hospitalisation is True
    assert request.situation.arret_travail is False
    assert request.reporter.profession_code == "60"
    assert request.reporter.rpps == "10001234567"
    assert not request.conflicts
    assert not [p for p in request.problems if p.severity == "error"]
    assert request.provenance["patient.birth_date"].source == name


def test_docx_table_layout() -> None:
    _check_signalement(build_signalement_docx(), "signalement.docx")


def test_docx_paragraph_layout() -> None:
    _check_signalement(build_signalement_docx_paragraphs(), "signalement.docx")
    request = parse_document("s.docx", build_signalement_docx_paragraphs())
    assert request.reporter.family_name == "MARTIN"


def test_pdf_acroform() -> None:
    _check_signalement(build_signalement_pdf(), "signalement.pdf")
    request = parse_document("s.pdf", build_signalement_pdf())
    assert request.patient.sex == "F"
    assert request.provenance["patient.family_name"].locator.startswith("champ « patient.Nom »")


def test_docx_legacy_fields_and_content_controls() -> None:
    request = parse_document("te.docx", build_teleexpertise_docx())
    assert request.kind is RequestKind.TELE_EXPERTISE
    assert request.patient.family_name == "DURAND"
    assert request.patient.birth_date == date(1948, 7, 1)
    assert request.tele_expertise.filiere == "dermatologie"
    assert request.tele_expertise.consent is True
    assert request.tele_expertise.question is not None
    assert request.situation.free_text is None  # "Commentaire" was a placeholder


def test_consent_refused_and_missing() -> None:
    refused = parse_document(
        "te.docx", build_teleexpertise_docx({"Consentement du patient": False})
    )
    assert "tele_expertise.consent.refused" in {p.code for p in refused.problems}
    missing = parse_document("te.docx", build_teleexpertise_docx({"Consentement du patient": None}))
    assert "tele_expertise.consent.missing" in {p.code for p in missing.problems}


def test_teleexpertise_mail_with_docx_and_photos() -> None:
    parsed = parse_message(build_teleexpertise_mail())
    request = parsed.request
    assert parsed.report_kind is None
    assert request.kind is RequestKind.TELE_EXPERTISE
    assert request.tele_expertise.filiere == "dermatologie"
    assert request.tele_expertise.consent is True
    assert request.tele_expertise.question
    assert [a.kind for a in request.attachments] == ["docx", "image", "image"]
    assert request.reporter.email == "dr.leroy@medecin.mssante.fr"


def test_signalement_mail_fields_in_body_only() -> None:
    raw = build_signalement_mail(attach_docx=False, fields_in_body=True, subject="Nouveau patient")
    request = parse_message(raw, default_kind=RequestKind.SIGNALEMENT).request
    assert request.kind is RequestKind.SIGNALEMENT
    assert request.patient.birth_date == date(1950, 3, 12)
    assert request.provenance["patient.birth_date"].kind == "body"


def test_default_kind_from_mailbox() -> None:
    from tests.parsers.builders import build_mail

    raw = build_mail(subject="Patient", body="Nom : DUPONT")
    request = parse_message(raw, default_kind=RequestKind.APPUI_DAC).request
    assert request.kind is RequestKind.APPUI_DAC
    assert request.provenance["kind"].kind == "config"
    unknown = parse_message(raw).request
    assert unknown.kind is RequestKind.UNKNOWN
    assert "kind.unknown" in {p.code for p in unknown.problems}


def test_missing_fields_reported() -> None:
    request = parse_message(build_signalement_mail({"Date de naissance": None})).request
    assert "patient.birth_date.missing" in {p.code for p in request.problems}


def test_invalid_ins_key_reported() -> None:
    request = parse_document("s.docx", build_signalement_docx({"N° INS": "279035121518988"}))
    assert "patient.ins.invalid_key" in {p.code for p in request.problems}
    assert request.patient.ins is None


def test_cda_wins_over_form_and_conflict_recorded() -> None:
    form = build_teleexpertise_docx({"Nom du patient": "DUPONT", "Date de naissance": "13/03/1950"})
    raw = build_teleexpertise_mail({"Nom du patient": "DUPONT", "Date de naissance": "13/03/1950"})
    assert form
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    message.add_attachment(
        build_xdm_zip(),
        maintype="application",
        subtype="zip",
        filename="IHE_XDM.ZIP",
    )
    request = parse_message(message.as_bytes()).request
    assert request.patient.birth_date == date(1950, 3, 12)  # from the CDA
    assert request.provenance["patient.birth_date"].kind == "cda"
    conflict = next(c for c in request.conflicts if c.field == "patient.birth_date")
    assert conflict.other == "1950-03-13" and conflict.other_from.kind == "docx"
    assert "patient.birth_date.conflict" in {p.code for p in request.problems}


def test_xdm_variants() -> None:
    for data in (build_xdm_zip(), build_xdm_zip(backslashes=True, subset="ss000001")):
        request = parse_document("IHE_XDM.ZIP", data)
        assert request.patient.ins == "279035121518989"
        assert request.patient.ins_kind == "test"
    bad = parse_document("IHE_XDM.ZIP", build_xdm_zip(bad_hash=True))
    assert "xdm.hash_mismatch" in {p.code for p in bad.problems}


def test_cda_retired_ins_c_and_production() -> None:
    retired = parse_document("d.xml", build_cda(ins_oid="1.2.250.1.213.1.4.2"))
    assert "patient.ins.retired_oid" in {p.code for p in retired.problems}
    assert retired.patient.ins is None
    production = parse_document("d.xml", build_cda(ins_oid="1.2.250.1.213.1.4.8"))
    assert production.patient.ins_kind == "production"
    assert "patient.ins.test_oid" not in {p.code for p in production.problems}


def test_status_query() -> None:
    raw = build_signalement_mail(subject="STATUT AIG-2025-000123", attach_docx=False)
    request = parse_message(raw).request
    assert request.kind is RequestKind.STATUS_QUERY
    assert request.reference == "AIG-2025-000123"


def test_pdf_without_eof_marker_is_refused_as_pypdf_would() -> None:
    """The shortcut answers "no marker" only where pypdf itself fails to open the file."""
    pdf = build_signalement_pdf()
    assert not has_no_eof_marker(pdf)
    samples = [pdf[:cut] for cut in range(0, len(pdf), 61)]
    samples += [pdf[:-k] for k in range(1, 12)] + [pdf[:-6] + b"%%E", b"%PDF-1.4\n" + b"0" * 9000]
    refused = 0
    for data in samples:
        if has_no_eof_marker(data):
            refused += 1
            with pytest.raises(PyPdfError):
                PdfReader(io.BytesIO(data), strict=False)
            assert "pdf.invalid" in {p.code for p in parse_document("t.pdf", data).problems}
    assert refused > len(samples) // 2
