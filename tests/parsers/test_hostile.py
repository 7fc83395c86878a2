"""Hostile inputs become problems, never exceptions, with bounded memory."""

from __future__ import annotations

import io
import resource
import zipfile
from collections.abc import Sequence

from parsers import ParseLimits, parse_document, parse_message
from parsers.request import Problem
from tests.parsers.builders import (
    build_billion_laughs_xml,
    build_large_attachment_mail,
    build_mail,
    build_traversal_zip,
    build_xxe_xml,
    build_zip_bomb,
)


def _codes(problems: Sequence[Problem]) -> set[str]:
    return {p.code for p in problems}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_zip_bomb_stops_while_streaming() -> None:
    bomb = build_zip_bomb(uncompressed=300_000_000)
    assert len(bomb) < 1_000_000
    before = _peak_rss_mb()
    request = parse_document("IHE_XDM.ZIP", bomb)
    assert _codes(request.problems) & {"zip.bomb", "zip.too_large"}
    assert _peak_rss_mb() - before < 200  # generous: the entry alone is 300 MB


def test_zip_bomb_in_docx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b" " * 60_000_000)
    request = parse_document("f.docx", buffer.getvalue())
    assert _codes(request.problems) & {"zip.bomb", "zip.too_large"}


def test_too_many_entries() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(30):
            archive.writestr(f"IHE_XDM/SUBSET01/F{index}.XML", "<x/>")
    request = parse_document("x.zip", buffer.getvalue(), limits=ParseLimits(zip_max_entries=10))
    assert "zip.too_many_entries" in _codes(request.problems)


def test_path_traversal() -> None:
    request = parse_document("IHE_XDM.ZIP", build_traversal_zip())
    assert "zip.unsafe_path" in _codes(request.problems)


def test_xxe_and_billion_laughs_refused() -> None:
    for data in (build_xxe_xml(), build_billion_laughs_xml()):
        request = parse_document("doc.xml", data)
        assert "xml.doctype_forbidden" in _codes(request.problems)
        assert request.patient.family_name is None


def test_deep_xml_refused() -> None:
    deep = b"<a>" * 300 + b"</a>" * 300
    request = parse_document("deep.xml", deep)
    assert _codes(request.problems) & {"xml.too_deep", "xml.malformed"}


def test_large_attachment_refused() -> None:
    raw = build_large_attachment_mail(50_000_000)
    limits = ParseLimits(max_message_bytes=100_000_000)
    parsed = parse_message(raw, limits=limits)
    assert "mime.attachment_too_large" in _codes(parsed.request.problems)
    assert parse_message(raw).request.problems[0].code == "message.too_large"


def test_too_many_attachments() -> None:
    raw = build_mail(
        subject="x",
        body="y",
        attachments=[(f"p{i}.jpg", "image/jpeg", b"\xff\xd8\xff") for i in range(40)],
    )
    parsed = parse_message(raw)
    assert "message.too_many_attachments" in _codes(parsed.request.problems)
    assert len(parsed.request.attachments) == 30


def test_truncated_inputs_never_raise() -> None:
    from tests.parsers.builders import build_signalement_docx, build_signalement_pdf, build_xdm_zip

    for name, data in (
        ("a.docx", build_signalement_docx()),
        ("b.pdf", build_signalement_pdf()),
        ("c.zip", build_xdm_zip()),
    ):
        for cut in (10, len(data) // 3, len(data) - 5):
            parse_document(name, data[:cut])
