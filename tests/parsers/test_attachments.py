"""``list_attachments``: the attached files of a raw mail, within ``ParseLimits``; never raises."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import random
from email.message import EmailMessage

from parsers import AttachmentPart, ParseLimits, list_attachments, parse_message
from tests.parsers.builders import build_mail, tiny_jpeg
from tests.parsers.der import signed_data

HEAD = b"From: a@b.fr\r\nSubject: avis\r\nMIME-Version: 1.0\r\n"
PLAIN = b"Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, voici mon avis."
HTML = b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Bonjour</p><img src=cid:logo@x>"
PDF_BYTES = b"%PDF-1.4 compte rendu"


def _multipart(subtype: str, *parts: bytes, boundary: str, params: str = "") -> bytes:
    body = f"Content-Type: multipart/{subtype}; boundary={boundary}{params}\r\n\r\n".encode()
    for part in parts:
        body += b"--" + boundary.encode() + b"\r\n" + part + b"\r\n"
    return body + b"--" + boundary.encode() + b"--\r\n"


def _part(content_type: str, data: bytes, headers: str = "") -> bytes:
    """A base64 body part; ``headers`` are more CRLF-ended lines after its two own."""
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n{headers}"
    return head.encode() + b"\r\n" + base64.encodebytes(data)


def _file(
    name: str, data: bytes, content_type: str = "application/pdf", headers: str = ""
) -> bytes:
    disposition = f"Content-Disposition: attachment; filename={name}\r\n"
    return _part(content_type, data, headers + disposition)


def _logo(name: str = "image001.png") -> bytes:
    headers = f"Content-ID: <logo@x>\r\nContent-Disposition: inline; filename={name}\r\n"
    return _part("image/png", b"\x89PNG logo", headers)


def _summary(parts: tuple[AttachmentPart, ...]) -> list[tuple[int, str, str, int, bool]]:
    return [(p.index, p.filename, p.content_type, p.size, p.forwarded) for p in parts]


def test_attached_files_with_their_bytes() -> None:
    jpeg = tiny_jpeg()
    raw = build_mail(
        subject="avis",
        body="Bonjour",
        html="<p>Bonjour</p>",
        attachments=[("cr.pdf", "application/pdf", PDF_BYTES), ("photo.jpg", "image/jpeg", jpeg)],
    )
    parts = list_attachments(raw)
    assert _summary(parts) == [
        (0, "cr.pdf", "application/pdf", len(PDF_BYTES), False),
        (1, "photo.jpg", "image/jpeg", len(jpeg), False),
    ]
    assert [p.payload() for p in parts] == [PDF_BYTES, jpeg]
    assert parts[0].sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert all(p.readable for p in parts)
    # The same files, names and hashes the parsed request records.
    recorded = parse_message(raw).request.attachments
    assert [(a.filename, a.sha256) for a in recorded] == [(p.filename, p.sha256) for p in parts]


def test_body_parts_and_signatures_are_not_attachments() -> None:
    raw = HEAD + _multipart(
        "signed",
        _multipart(
            "mixed",
            _multipart("alternative", PLAIN, HTML, boundary="alt"),
            b"Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR",
            _file("cr.pdf", PDF_BYTES),
            boundary="mix",
        ),
        _file("smime.p7s", b"0\x82signature", "application/pkcs7-signature"),
        boundary="sig",
        params='; protocol="application/pkcs7-signature"',
    )
    assert _summary(list_attachments(raw)) == [
        (0, "cr.pdf", "application/pdf", len(PDF_BYTES), False)
    ]


def test_inline_images_of_an_html_body_are_kept_and_marked() -> None:
    # A pasted photo in an avis is indistinguishable from a logo: both are kept.
    outlook = HEAD + _multipart(
        "related", _multipart("alternative", PLAIN, HTML, boundary="alt"), _logo(), boundary="rel"
    )
    listed = list_attachments(outlook)
    assert [(p.filename, p.embedded) for p in listed] == [("image001.png", True)]
    assert listed[0].payload() == b"\x89PNG logo"
    assert [a.filename for a in parse_message(outlook).request.attachments] == ["image001.png"]
    with_file = HEAD + _multipart(
        "mixed",
        _multipart("related", HTML, _logo(), boundary="rel"),
        _file("cr.pdf", PDF_BYTES),
        boundary="mix",
    )
    assert [(p.filename, p.embedded) for p in list_attachments(with_file)] == [
        ("image001.png", True),
        ("cr.pdf", False),
    ]


def test_related_root_and_explicit_attachments() -> None:
    # "start" names the root: the other parts are its resources, unless marked attachment.
    raw = HEAD + _multipart(
        "related",
        _logo("logo.png"),
        b"Content-ID: <root@x>\r\n" + HTML,
        _file("scan.png", b"\x89PNG scan", "image/png", "Content-ID: <scan@x>\r\n"),
        boundary="rel",
        params='; start="<root@x>"',
    )
    assert [(p.filename, p.embedded) for p in list_attachments(raw)] == [
        ("logo.png", True),
        ("scan.png", False),
    ]
    no_start = raw.replace(b'; start="<root@x>"', b"")
    # Without "start" the first part (here the logo) is the root, hence listed.
    assert [p.filename for p in list_attachments(no_start)] == ["logo.png", "scan.png"]


def test_nested_and_forwarded_attachments() -> None:
    inner = build_mail(
        subject="demande initiale",
        body="voir pièce jointe",
        attachments=[("ordonnance.pdf", "application/pdf", b"%PDF-1.4 ordonnance")],
    )
    outer = EmailMessage()
    outer["From"] = "dr.x@medecin.mssante.fr"
    outer["Subject"] = "TR: demande"
    outer.set_content("Je vous transfère la demande et mon compte rendu.")
    outer.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="cr.pdf")
    outer.add_attachment(inner, maintype="message", subtype="rfc822")
    parts = list_attachments(outer.as_bytes())
    assert [(p.filename, p.forwarded) for p in parts] == [
        ("cr.pdf", False),
        ("ordonnance.pdf", True),
    ]
    assert parts[1].payload() == b"%PDF-1.4 ordonnance"
    deep = PLAIN
    for level in range(5):
        deep = _multipart("mixed", deep, boundary=f"b{level}")
    deep = HEAD + _multipart("mixed", deep, _file("cr.pdf", PDF_BYTES), boundary="top")
    assert [p.filename for p in list_attachments(deep)] == ["cr.pdf"]


def test_opaque_smime_content_is_listed() -> None:
    content = _multipart("mixed", PLAIN, _file("cr.pdf", PDF_BYTES), boundary="in")
    raw = (
        HEAD + b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(signed_data(content))
    )
    parts = list_attachments(raw)
    assert [p.filename for p in parts] == ["cr.pdf"]
    assert parts[0].payload() == PDF_BYTES


def test_non_ascii_rfc2231_filenames() -> None:
    def named(disposition: str) -> bytes:
        return (
            b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            + disposition.encode()
            + b"\r\n\r\n"
            + base64.encodebytes(PDF_BYTES)
        )

    raw = HEAD + _multipart(
        "mixed",
        PLAIN,
        named(
            "Content-Disposition: attachment; filename*=utf-8''compte%20rendu%20%C3%A9t%C3%A9.pdf"
        ),
        named(
            "Content-Disposition: attachment;\r\n filename*0*=utf-8''r%C3%A9sultats%20;\r\n"
            " filename*1*=biologie.pdf"
        ),
        named("Content-Disposition: attachment; filename*=iso-8859-1'fr'd%E9tail.pdf"),
        named('Content-Disposition: attachment; filename="=?utf-8?b?w6l0w6kucGRm?="'),
        named('Content-Disposition: attachment; filename="..\\\\..\\\\ordonnance\x07.pdf"'),
        boundary="mix",
    )
    names = [p.filename for p in list_attachments(raw)]
    assert names == [
        "compte rendu été.pdf",
        "résultats biologie.pdf",
        "détail.pdf",
        "été.pdf",
        "ordonnance.pdf",
    ]


def test_unnamed_part_gets_a_name() -> None:
    raw = HEAD + _multipart(
        "mixed", PLAIN, _part("application/octet-stream", b"blob"), boundary="m"
    )
    assert _summary(list_attachments(raw)) == [
        (0, "piece-jointe-1", "application/octet-stream", 4, False)
    ]


def test_base64_garbage_is_decoded_as_the_stdlib_does() -> None:
    garbage = (
        b"Content-Type: application/pdf; name=cr.pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=cr.pdf\r\n\r\n"
        b"JVBERi0x!!**not base64 at all\xff\xfe@@\r\nLjQ=trailing===\r\nQQ"
    )
    raw = HEAD + _multipart("mixed", PLAIN, garbage, boundary="m")
    (part,) = list_attachments(raw)
    payload = part.payload()
    stdlib = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(stdlib, EmailMessage)
    (expected,) = [p.get_payload(decode=True) for p in stdlib.iter_attachments()]
    assert payload == expected
    assert part.size == len(expected)
    assert part.sha256 == hashlib.sha256(expected).hexdigest()


def test_too_many_parts() -> None:
    raw = build_mail(
        subject="x",
        body="y",
        attachments=[(f"p{i}.jpg", "image/jpeg", b"\xff\xd8\xff") for i in range(40)],
    )
    assert len(list_attachments(raw, ParseLimits(max_attachments=100))) == 40
    assert len(list_attachments(raw)) == ParseLimits().max_attachments == 30
    # The container and the body are parts too: 10 parts leave room for 8 files.
    few = list_attachments(raw, ParseLimits(max_attachments=100, max_mime_parts=10))
    assert [p.filename for p in few] == [f"p{i}.jpg" for i in range(8)]


def test_too_deep() -> None:
    deep = _file("profond.pdf", PDF_BYTES)
    for level in range(15):
        deep = _multipart("mixed", PLAIN, deep, boundary=f"level{level}")
    raw = HEAD + deep
    assert list_attachments(raw) == ()
    assert [p.filename for p in list_attachments(raw, ParseLimits(max_mime_depth=20))] == [
        "profond.pdf"
    ]


def test_oversized_attachment_is_listed_but_not_readable() -> None:
    big = bytes(random.Random(3).randbytes(5000))
    raw = build_mail(
        subject="x", body="y", attachments=[("gros.bin", "application/octet-stream", big)]
    )
    (part,) = list_attachments(raw, ParseLimits(max_attachment_bytes=1000))
    assert (part.filename, part.readable, part.sha256) == ("gros.bin", False, "")
    assert part.payload() is None
    assert part.size >= 4000
    (fits,) = list_attachments(raw)
    assert fits.payload() == big


def test_message_over_the_size_limit_lists_nothing() -> None:
    raw = build_mail(subject="x", body="y", attachments=[("cr.pdf", "application/pdf", PDF_BYTES)])
    assert list_attachments(raw, ParseLimits(max_message_bytes=len(raw) - 1)) == ()
    assert len(list_attachments(raw, ParseLimits(max_message_bytes=len(raw)))) == 1


def test_empty_and_garbage_input_never_raise() -> None:
    assert list_attachments(b"") == ()
    for raw in (
        b"\x00\xff" * 1000,
        b"Content-Type: multipart/mixed\r\n\r\n--",
        b"Content-Type: multipart/mixed; boundary=\xff\r\n\r\n--\xff\r\n\r\n",
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!",
        b"Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIB",
        bytes(random.Random(11).randbytes(200_000)),
    ):
        for part in list_attachments(raw):
            part.payload()
    raw = build_mail(
        subject="x",
        body="y",
        attachments=[("a.pdf", "application/pdf", PDF_BYTES), ("b.jpg", "image/jpeg", tiny_jpeg())],
    )
    start = raw.index(b"a.pdf")
    assert len(list_attachments(raw)) == 2
    assert list_attachments(raw[: start - 200]) == ()
    for cut in range(start - 200, len(raw), 7):
        for part in list_attachments(raw[:cut]):
            payload = part.payload()
            assert payload is None or isinstance(payload, bytes)
