"""Minimised hostile inputs, one per root cause fixed (issue 13), built in code.

Each was, before its fix, an uncaught exception, seconds to minutes of CPU, or gigabytes
of memory in a parse worker. ``REPRODUCERS`` maps a name to (entry point, filename, bytes
builder, expected problem codes): the test replays every one under a time bound.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.parsers.builders import build_cda

__all__ = ["REPRODUCERS", "Reproducer", "pdf_with_content"]

FROM = b"From: Dr Martin <paul.martin@medecin.mssante.fr>\r\n"
HEAD = FROM + b"To: signalement@cpts.test\r\nSubject: Signalement\r\nMIME-Version: 1.0\r\n"


@dataclass(frozen=True)
class Reproducer:
    entry: str  # "message" (parse_message) or "document" (parse_document)
    filename: str
    build: Callable[[], bytes]
    codes: frozenset[str]  # every one must be among the problems
    absent: frozenset[str] = frozenset({"parse.internal_error", "parse.timeout"})


# 1. A charset Python knows but that refuses to decode (UnicodeError, not a subclass).
def charset_undefined() -> bytes:
    return HEAD + b"Content-Type: text/plain; charset=undefined\r\n\r\nNom : DUPONT\r\n"


def charset_punycode() -> bytes:
    return HEAD + b"Content-Type: text/plain; charset=punycode\r\n\r\nNom : DUPONT \xff\xfe\r\n"


# 2. A zip member whose compressed bytes are damaged: zlib.error / lzma.LZMAError.
def _zip_with_method(method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", b"<a>" + b"x" * 4000 + b"</a>")
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", build_cda())
    data = bytearray(buffer.getvalue())
    offset = 0
    while (offset := data.find(b"PK\x03\x04", offset)) >= 0:
        struct.pack_into("<H", data, offset + 8, method)
        name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
        start = offset + 30 + name_length + extra_length
        data[start : start + 16] = b"\xff" * 16  # the compressed stream's first bytes
        offset += 4
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) >= 0:
        struct.pack_into("<H", data, offset + 10, method)
        offset += 4
    return bytes(data)


def zip_corrupt_deflate() -> bytes:
    return _zip_with_method(zipfile.ZIP_DEFLATED)


def zip_corrupt_lzma() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", build_cda())
    data = bytearray(buffer.getvalue())
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    start = 30 + name_length + extra_length + 9  # past zip's LZMA header (version, props)
    data[start : start + 32] = b"\xff" * 32
    return bytes(data)


# 3. Huge headers: encoded words, parameters, header count (quadratic stdlib parser).
def from_encoded_words() -> bytes:
    words = b" ".join([b"=?utf-8?q?a?="] * 10_000)  # 140 KB; before: 2.5 GB in a worker
    return b"From: " + words + b" <a@b.fr>\r\nSubject: x\r\n\r\nNom : DUPONT\r\n"


def content_type_parameters() -> bytes:
    params = b"".join(b"; name*%d*=utf-8''a%%20" % i for i in range(10_000))  # before: 27 s
    return HEAD + b"Content-Type: text/plain" + params + b"\r\n\r\nNom : DUPONT\r\n"


def nested_comments() -> bytes:
    # The stdlib recurses once per "(": a RecursionError in the header parser (fuzz, 2026-12-03).
    return FROM + b"Content-Type: " + b"(" * 2_000 + b"\r\nSubject: x\r\n\r\nNom : DUPONT\r\n"


def nested_comments_in_from() -> bytes:
    return b"From: " + b"(" * 1_500 + b" <a@b.fr>\r\nSubject: x\r\n\r\nNom : DUPONT\r\n"


def many_cc_headers() -> bytes:
    return HEAD + b"Cc: x\r\n" * 20_000 + b"\r\nNom : DUPONT\r\n"  # before: 6 s


def oversized_header_block() -> bytes:
    return HEAD + b"X-Filler: " + b"y" * 2_000_000 + b"\r\n\r\nNom : DUPONT\r\n"


# 4. The e-mail regex on a long value (ReDoS): ~40 s on 150 KB before.
def email_value() -> bytes:
    return HEAD + b"\r\nNom : DUPONT\r\nCourriel du patient : " + b"a" * 150_000 + b"\r\n"


# 5. The HTML-to-text regex fallback (lxml refuses a str with an encoding declaration).
def html_fallback() -> bytes:
    body = b'<?xml version="1.0" encoding="UTF-8"?>' + b"<" * 5_000_000
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body


# 6. 50,000 parts: split and header-parsed before the part limit was checked.
def many_parts() -> bytes:
    part = b"--X\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (
        HEAD + b"Content-Type: multipart/mixed; boundary=X\r\n\r\n" + part * 50_000 + b"--X--\r\n"
    )


# 7. The same boundary nested 20,000 deep.
def nested_same_boundary() -> bytes:
    level = b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n"
    return FROM + level * 20_000 + b"Content-Type: text/plain\r\n\r\nNom : X\r\n--X--\r\n"


# 8. PDF: a Flate content stream far larger once decoded, and dense text operators.
def pdf_with_content(content: bytes, *, compressed: bytes | None = None) -> bytes:
    stream = compressed if compressed is not None else zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_flate_bomb() -> bytes:
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    bomb = b"".join(compressor.compress(chunk) for _ in range(300)) + compressor.flush()
    return pdf_with_content(b"", compressed=bomb)  # 300 KB, 300 MB decoded


def pdf_dense_text() -> bytes:
    return pdf_with_content(b"BT /F1 12 Tf 72 712 Td " + b"(Nom : DUPONT) Tj T* " * 100_000 + b"ET")


def pdf_corrupt_flate() -> bytes:
    garbage = bytes((index * 7919) % 251 for index in range(3_000_000))  # retried byte by byte
    return pdf_with_content(b"", compressed=b"x\x9c" + garbage)


def mail_with_xdm(archive: bytes) -> Callable[[], bytes]:
    import base64

    def build() -> bytes:
        return (
            HEAD + b'Content-Type: multipart/mixed; boundary="S"\r\n\r\n'
            b"--S\r\nContent-Type: text/plain\r\n\r\nNom : DUPONT\r\n"
            b"--S\r\nContent-Type: application/zip\r\n"
            b'Content-Disposition: attachment; filename="IHE_XDM.ZIP"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(archive)
            + b"--S--\r\n"
        )

    return build


_TOO_LONG = frozenset({"message.header_too_long"})
REPRODUCERS: dict[str, Reproducer] = {
    "charset_undefined": Reproducer(
        "message", "", charset_undefined, frozenset({"mime.charset_fallback"})
    ),
    "charset_punycode": Reproducer(
        "message", "", charset_punycode, frozenset({"mime.charset_fallback"})
    ),
    "zip_corrupt_deflate": Reproducer(
        "document", "IHE_XDM.ZIP", zip_corrupt_deflate, frozenset({"zip.corrupt"})
    ),
    "zip_corrupt_lzma": Reproducer(
        "document", "IHE_XDM.ZIP", zip_corrupt_lzma, frozenset({"zip.corrupt"})
    ),
    "zip_corrupt_in_mail": Reproducer(
        "message", "", mail_with_xdm(_zip_with_method(8)), frozenset({"zip.corrupt"})
    ),
    "from_encoded_words": Reproducer("message", "", from_encoded_words, _TOO_LONG),
    "content_type_parameters": Reproducer("message", "", content_type_parameters, _TOO_LONG),
    "nested_comments": Reproducer("message", "", nested_comments, _TOO_LONG),
    "nested_comments_in_from": Reproducer("message", "", nested_comments_in_from, _TOO_LONG),
    "many_cc_headers": Reproducer(
        "message", "", many_cc_headers, frozenset({"message.headers_too_large"})
    ),
    "oversized_header_block": Reproducer(
        "message", "", oversized_header_block, frozenset({"message.headers_too_large"})
    ),
    "email_value": Reproducer("message", "", email_value, frozenset({"patient.email.invalid"})),
    # No problem of its own (the text is read, by the fallback): only what the body lacks.
    "html_fallback": Reproducer(
        "message", "", html_fallback, frozenset({"patient.family_name.missing"})
    ),
    "many_parts": Reproducer("message", "", many_parts, frozenset({"message.too_many_parts"})),
    "nested_same_boundary": Reproducer(
        "message", "", nested_same_boundary, frozenset({"message.too_many_parts"})
    ),
    "pdf_flate_bomb": Reproducer(
        "document", "f.pdf", pdf_flate_bomb, frozenset({"pdf.content_too_large"})
    ),
    "pdf_dense_text": Reproducer(
        "document", "f.pdf", pdf_dense_text, frozenset({"pdf.content_too_large"})
    ),
    "pdf_corrupt_flate": Reproducer(
        "document", "f.pdf", pdf_corrupt_flate, frozenset({"pdf.content_too_large"})
    ),
}
