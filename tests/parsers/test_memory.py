"""Peak memory of a parse is bounded by the largest attachment (tracemalloc, not timing)."""

from __future__ import annotations

import base64
import gc
import hashlib
import tracemalloc

from parsers import ParsedMessage, parse_message
from tests.parsers.builders import build_mail
from tests.parsers.der import signed_data


def _traced_peak(raw: bytes) -> tuple[int, ParsedMessage]:
    gc.collect()
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, parsed


def test_15_mb_pdf_attachment_under_three_times_its_size() -> None:
    pdf = b"%PDF-1.4\n" + b"0" * 15_000_000
    raw = build_mail(subject="x", body="y", attachments=[("big.pdf", "application/pdf", pdf)])
    peak, parsed = _traced_peak(raw)
    assert peak < 3 * len(pdf), f"peak {peak / len(pdf):.2f}x the attachment"
    (attachment,) = parsed.request.attachments
    assert (attachment.kind, attachment.size) == ("pdf", len(pdf))
    assert attachment.sha256 == hashlib.sha256(pdf).hexdigest()
    assert "pdf.invalid" in {p.code for p in parsed.request.problems}


def test_image_attachment_is_never_decoded_whole() -> None:
    image = b"\xff\xd8\xff\xe0" + b"\x01" * 12_000_000
    raw = build_mail(subject="x", body="y", attachments=[("scan.jpg", "image/jpeg", image)])
    peak, parsed = _traced_peak(raw)
    assert peak < len(image) // 2, f"peak {peak / len(image):.2f}x the attachment"
    (attachment,) = parsed.request.attachments
    assert (attachment.kind, attachment.size) == ("image", len(image))
    assert attachment.sha256 == hashlib.sha256(image).hexdigest()


def test_signed_mail_content_is_not_copied() -> None:
    pdf = b"%PDF-1.4\n" + b"0" * 10_000_000
    inner = build_mail(subject="x", body="y", attachments=[("big.pdf", "application/pdf", pdf)])
    raw = (
        b"From: a@b.fr\r\nSubject: Signalement\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(signed_data(inner))
    )
    peak, parsed = _traced_peak(raw)
    # The DER (the signed mail, itself base64) plus the decoded PDF, nothing more.
    assert peak < 3 * len(pdf), f"peak {peak / len(pdf):.2f}x the attachment"
    assert [a.size for a in parsed.request.attachments] == [len(pdf)]
