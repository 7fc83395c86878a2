"""Body decoding matches ``Message.get_payload``; chunked digests match the whole decode."""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
from email import policy
from email.message import Message
from email.parser import BytesParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parsers.mime_body import (
    HEAD_BYTES,
    base64_pieces,
    decode_payload,
    digest,
    encoded_size,
    payload_bytes,
)
from parsers.mime_split import MimePart, split_message
from parsers.mime_walk import decode_base64_loose


def _part(headers: str, body: bytes) -> tuple[MimePart, Message]:
    raw = headers.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body
    split = split_message(raw)
    stdlib = BytesParser(policy=policy.default).parsebytes(raw)
    return split, stdlib


def _stdlib_payload_bytes(message: Message) -> bytes | None:
    """What the walker used to read: the decoded payload, else the text re-encoded."""
    try:
        payload = message.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    try:
        text = message.get_payload()
    except Exception:
        return None
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else None


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
GOOD = base64.encodebytes(PDF)
BODIES = {
    "good": GOOD,
    "crlf": GOOD.replace(b"\n", b"\r\n"),
    "no padding": GOOD.rstrip().rstrip(b"=") + b"\n",
    "junk characters": GOOD.replace(b"A", b"A*!", 5).replace(b"\n", b" \t\n", 9),
    "padding in the middle": GOOD[:400] + b"==\n" + GOOD[400:],
    "one character too many": GOOD.rstrip().rstrip(b"=") + b"Q\n",
    "8-bit junk": GOOD + b"\xe9\xff\n",
    "empty": b"",
    "only padding": b"====\n",
}


@pytest.mark.parametrize("name", sorted(BODIES))
@pytest.mark.parametrize("chunk", [1, 3, 4, 7, 64, 1 << 20])
def test_base64_digest_equals_stdlib_decode(name: str, chunk: int) -> None:
    split, stdlib = _part("Content-Transfer-Encoding: base64", BODIES[name])
    expected = _stdlib_payload_bytes(stdlib)
    assert expected is not None
    assert payload_bytes(split) == expected
    found = digest(split, chunk=chunk)
    assert found is not None
    assert found.size == len(expected)
    assert found.sha256 == hashlib.sha256(expected).hexdigest()
    assert found.head == expected[:HEAD_BYTES]


QP_BODY = (
    quopri.encodestring(("Nom : DUPONT é\n" * 300).encode()) + b"soft =\r\nbreak =\rx =4\n=ZZ=\n=="
)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("quoted-printable", QP_BODY),
        ("quoted-printable", QP_BODY.replace(b"\n", b"\r\n")),
        ("x-uuencode", b"begin 644 f\n" + binascii.b2a_uu(b"Nom : DUPONT") + b"`\nend\n"),
        ("uuencode", b"no begin line\n"),
        ("8bit", "Nom : DUPONT é".encode("latin-1")),
        ("", b"plain \xff body"),
    ],
)
@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_other_encodings_equal_stdlib(encoding: str, body: bytes, chunk: int) -> None:
    split, stdlib = _part(
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {encoding}", body
    )
    expected = _stdlib_payload_bytes(stdlib)
    assert expected is not None
    assert decode_payload(split) == stdlib.get_payload(decode=True)
    found = digest(split, chunk=chunk)
    assert found is not None
    assert (found.size, found.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())
    text = stdlib.get_payload()
    assert isinstance(text, str)
    assert encoded_size(split) == len(text)  # 8-bit bodies count decoded characters


def test_multipart_has_no_payload_bytes() -> None:
    split, _ = _part("Content-Type: multipart/mixed; boundary=A", b"--A\r\n\r\nx\r\n--A--\r\n")
    assert payload_bytes(split) is None
    assert digest(split) is None
    assert encoded_size(split) == 0


_B64_TEXT = st.text(alphabet="AQgw+/=\n\r \t*\x0b\x1c", max_size=60)


@settings(max_examples=400, deadline=None)
@given(_B64_TEXT, st.integers(min_value=1, max_value=9))
@example("AAAAAAAA=", 1)  # strict mode: "=" leading its input is refused, after data it is not
def test_pieces_equal_one_call(text: str, chunk: int) -> None:
    raw = text.encode()
    views = [memoryview(raw)]
    # Lenient, as for attachments: one non-strict a2b_base64 call.
    try:
        expected: bytes | None = binascii.a2b_base64(raw)
    except binascii.Error:
        expected = None
    drop = bytes(sorted(set(range(256)) - set(b"AQgw+/=")))
    try:
        got: bytes | None = b"".join(base64_pieces(views, drop=drop, strict=False, chunk=chunk))
    except binascii.Error:
        got = None
    assert got == expected
    # Strict after whitespace, as decode_base64_loose.
    loose = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
    try:
        strict: bytes | None = b"".join(base64_pieces(views, drop=loose, strict=True, chunk=chunk))
    except binascii.Error:
        strict = None
    assert strict == decode_base64_loose(text)
