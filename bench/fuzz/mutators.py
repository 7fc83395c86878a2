"""Mutators: how an attacker or a broken mail client bends a seed.

Each takes a ``random.Random`` and the bytes, and returns new bytes. They are grouped by
what they target: raw bytes, MIME headers, MIME boundaries, zip archives, XML and PDF.
``mutate`` picks a few, weighted towards the seed's kind, and may wrap a mutated document
in a mail as an attachment so that the message path reaches the document parsers too.
"""

from __future__ import annotations

import base64
import functools
import io
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence

__all__ = ["MUTATORS", "Mutator", "mutate"]

Mutator = Callable[[random.Random, bytes], bytes]
MAX_INPUT_BYTES = 4_000_000

_CHARSETS = [
    "utf-8",
    "iso-8859-1",
    "punycode",
    "undefined",
    "utf-7",
    "idna",
    "hex",
    "rot13",
    "base64",
    "zlib",
    "utf-32",
    "cp1252",
    "x-unknown",
    "unicode-escape",
    "",
]
_HEADERS = [
    b"From",
    b"To",
    b"Cc",
    b"Subject",
    b"Reply-To",
    b"Message-ID",
    b"References",
    b"In-Reply-To",
    b"Date",
    b"Content-Type",
    b"Content-Disposition",
    b"Content-Transfer-Encoding",
    b"Return-Path",
    b"Auto-Submitted",
    b"Disposition-Notification-To",
]


def _big(rng: random.Random) -> int:
    """A repetition count: mostly small, sometimes hostile."""
    return rng.choice([2, 10, 100, 1_000, 5_000, 20_000, 60_000])


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


# -- raw bytes --------------------------------------------------------------------------------


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.choice([1, 4, 32])):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def insert_interesting(rng: random.Random, data: bytes) -> bytes:
    piece = rng.choice(
        [
            b"\x00",
            b"\r",
            b"\n\n",
            b"=?",
            b"?=",
            b"--",
            b"<",
            b">",
            b"\xff\xfe",
            b"\xef\xbb\xbf",
            b"%",
            b"\\",
            b'"',
            b"(",
            b"@",
            b"=\r\n",
            b"&#",
        ]
    )
    position = _pos(rng, data)
    return data[:position] + piece * rng.choice([1, 1, 8, _big(rng)]) + data[position:]


def delete_chunk(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randrange(1, min(len(data) - start, 4096) + 1) :]


def duplicate_chunk(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    chunk = data[start : start + rng.randrange(1, 256)]
    return data[:start] + chunk * _big(rng) + data[start:]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


# -- MIME headers -----------------------------------------------------------------------------


def _header_end(data: bytes) -> int:
    found = re.search(rb"\r?\n\r?\n", data)
    return found.start() if found else len(data)


def _insert_header(data: bytes, line: bytes, rng: random.Random) -> bytes:
    end = _header_end(data)
    lines = data[:end].split(b"\n")
    index = rng.randrange(len(lines) + 1)
    lines.insert(index, line.rstrip(b"\r\n") + b"\r")
    return b"\n".join(lines) + data[end:]


def encoded_words(rng: random.Random, data: bytes) -> bytes:
    name = rng.choice(_HEADERS)
    word = rng.choice([b"=?utf-8?q?a?=", b"=?utf-8?b?w6k=?=", b"=?iso-8859-1?q?=E9?=", b"=?x?q??="])
    sep = rng.choice([b" ", b"", b"\r\n ", b"\t"])
    value = sep.join([word] * _big(rng))
    tail = rng.choice([b" <a@b.fr>", b"", b" <" + b"a" * 100 + b"@b.fr>"])
    return _insert_header(data, name + b": " + value + tail, rng)


def long_header(rng: random.Random, data: bytes) -> bytes:
    name = rng.choice(_HEADERS)
    unit = rng.choice(
        [b"a", b"a ", b"<a@b> ", b'"a\\', b"(", b"a@b.fr, ", b'"N" <a@b.fr>, ', b"\\", b"; p=v"]
    )
    return _insert_header(data, name + b": " + unit * _big(rng), rng)


def many_params(rng: random.Random, data: bytes) -> bytes:
    name = rng.choice([b"Content-Type: multipart/mixed", b"Content-Disposition: attachment"])
    kind = rng.choice([b"; p%d=v", b"; name*%d*=utf-8''a%%20", b'; filename*%d="x"'])
    count = _big(rng)
    params = b"".join(kind % i for i in range(min(count, 20_000)))
    return _insert_header(data, name + params, rng)


def many_headers(rng: random.Random, data: bytes) -> bytes:
    name = rng.choice(_HEADERS)
    line = name + b": " + rng.choice([b"x", b"=?utf-8?q?a?=", b"a@b.fr"]) + b"\r\n"
    end = _header_end(data)
    return data[:end] + b"\r\n" + (line * _big(rng)).rstrip(b"\r\n") + data[end:]


def bad_charset(rng: random.Random, data: bytes) -> bytes:
    charset = rng.choice(_CHARSETS).encode()
    replaced, count = re.subn(
        rb"charset=\"?[\w.-]*\"?", b'charset="' + charset + b'"', data, count=3
    )
    if count:
        return replaced
    return _insert_header(data, b"Content-Type: text/plain; charset=" + charset, rng)


def bad_encoding(rng: random.Random, data: bytes) -> bytes:
    value = rng.choice(
        [b"base64", b"quoted-printable", b"x-uuencode", b"8bit", b"bAsE64 ", b"7bit"]
    )
    replaced, count = re.subn(
        rb"Content-Transfer-Encoding: *[\w-]+",
        b"Content-Transfer-Encoding: " + value,
        data,
        count=2,
    )
    return replaced if count else _insert_header(data, b"Content-Transfer-Encoding: " + value, rng)


# -- MIME boundaries --------------------------------------------------------------------------


def _boundary(data: bytes) -> bytes | None:
    found = re.search(rb'boundary="?([^";\r\n]+)"?', data)
    return found.group(1) if found else None


def repeat_boundary(rng: random.Random, data: bytes) -> bytes:
    boundary = _boundary(data) or b"B"
    part = b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    position = data.find(b"--" + boundary)
    position = position if position >= 0 else _pos(rng, data)
    return data[:position] + part * _big(rng) + data[position:]


def nest_boundary(rng: random.Random, data: bytes) -> bytes:
    boundary = _boundary(data) or b"B"
    if rng.random() < 0.5:
        level = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
        )
    else:
        level = b"Content-Type: message/rfc822\r\n\r\n"
    position = data.find(b"--" + boundary)
    position = position + len(boundary) + 4 if position >= 0 else _header_end(data) + 2
    return data[:position] + level * _big(rng) + data[position:]


def drop_boundaries(rng: random.Random, data: bytes) -> bytes:
    boundary = _boundary(data)
    if boundary is None:
        return data
    target = rng.choice([b"--" + boundary + b"--", b"--" + boundary])
    return data.replace(
        target, rng.choice([b"", b"--x" + boundary, target + target]), rng.randrange(1, 4)
    )


def html_body(rng: random.Random, data: bytes) -> bytes:
    body = rng.choice(
        [
            b"<" * _big(rng) * 10,
            b"<div>" * _big(rng),
            b'<?xml version="1.0" encoding="UTF-8"?>' + b"<a" * _big(rng) * 10,
            b"<table>" + b"<tr><td>a</td><td>b</td></tr>" * _big(rng) + b"</table>",
            b"<p>Nom : " + b"a" * _big(rng) * 10 + b"</p>",
        ]
    )
    return (
        b"From: a <a@b.fr>\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + body
    )


# -- zip --------------------------------------------------------------------------------------


def _rezip(rng: random.Random, data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist()[:50]:
                content = source.read(info)
                if rng.random() < 0.5:
                    content = change(content)
                target.writestr(info.filename, content)
        return buffer.getvalue()
    except Exception:  # not a zip (any more): the mutation does nothing
        return data


def zip_corrupt_member(rng: random.Random, data: bytes) -> bytes:
    """Damage a member's compressed bytes (zlib.error), or set its method to LZMA/bzip2."""
    out = bytearray(data)
    headers = [m.start() for m in re.finditer(rb"PK\x03\x04", data)]
    if not headers:
        return data
    start = rng.choice(headers)
    if rng.random() < 0.4 and start + 10 <= len(out):
        method = rng.choice([14, 12, 8, 99, 0])
        struct.pack_into("<H", out, start + 8, method)
        for central in re.finditer(rb"PK\x01\x02", data):  # keep the directory agreeing
            if central.start() + 12 <= len(out):
                struct.pack_into("<H", out, central.start() + 10, method)
        return bytes(out)
    for _ in range(rng.choice([1, 8, 64])):
        position = start + 30 + rng.randrange(64)
        if position < len(out):
            out[position] = rng.randrange(256)
    return bytes(out)


def zip_sizes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for found in list(re.finditer(rb"PK\x01\x02|PK\x03\x04|PK\x05\x06", data))[:20]:
        offset = found.start() + rng.choice([10, 16, 20, 24, 8, 12])
        if offset + 4 <= len(out) and rng.random() < 0.5:
            struct.pack_into("<I", out, offset, rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 65535]))
    return bytes(out)


def zip_inner_xml(rng: random.Random, data: bytes) -> bytes:
    return _rezip(rng, data, lambda content: mutate_xml(rng, content))


def zip_many_entries(rng: random.Random, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(rng.choice([10, 600, 3000])):
            archive.writestr(f"IHE_XDM/SUBSET01/F{index}.XML", b"<x/>")
    return buffer.getvalue()


# -- XML --------------------------------------------------------------------------------------


def mutate_xml(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:
        depth = _big(rng)
        return b"<a>" * depth + data[:1000] + b"</a>" * depth
    if choice == 1:
        return b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]>' + data
    if choice == 2:
        return data.replace(b"<", b"<x" + b" a='" + b"v" * _big(rng) + b"'", 1)
    if choice == 3:
        tags = list(re.finditer(rb"<[A-Za-z][^<>]{0,50}>", data))
        if tags:
            tag = rng.choice(tags)
            return data[: tag.end()] + tag.group() * _big(rng) + data[tag.end() :]
        return data
    if choice == 4:
        return data.replace(
            b'encoding="UTF-8"', b'encoding="' + rng.choice(_CHARSETS).encode() + b'"'
        )
    return truncate(rng, data)


# -- PDF --------------------------------------------------------------------------------------


def pdf_stream(rng: random.Random, data: bytes) -> bytes:
    """Replace a stream's content with a large (or corrupt) Flate stream."""
    streams = list(re.finditer(rb"stream\r?\n", data))
    if not streams:
        return data
    found = rng.choice(streams)
    end = data.find(b"endstream", found.end())
    if end < 0:
        return data
    choice = rng.randrange(3)
    if choice == 0:
        content = b"BT /F1 12 Tf 72 712 Td " + b"(Nom : DUPONT) Tj T* " * _big(rng) * 10 + b"ET"
        payload = zlib.compress(content, 9)
    elif choice == 1:
        payload = _flate_bomb(rng.choice([1_000_000, 50_000_000, 200_000_000]))
    else:
        payload = bytes(rng.randrange(256) for _ in range(rng.choice([10, 1000, 100_000])))
    return data[: found.end()] + payload + b"\n" + data[end:]


@functools.cache
def _flate_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    return (
        b"".join(compressor.compress(chunk) for _ in range(size // len(chunk))) + compressor.flush()
    )


def pdf_numbers(rng: random.Random, data: bytes) -> bytes:
    def change(match: re.Match[bytes]) -> bytes:
        if rng.random() < 0.1:
            return str(rng.choice([0, -1, 2**31, 10**12, 99999])).encode()
        return match.group()

    return re.sub(rb"(?<=/Length )\d+|(?<=/Count )\d+|(?<=/Size )\d+|\d+(?= 0 R)", change, data)


def pdf_structure(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return re.sub(rb"xref.*?trailer", b"trailer", data, count=1, flags=re.S)
    if choice == 1:
        return data.replace(b"/Kids [", b"/Kids [" + b"3 0 R " * _big(rng), 1)
    if choice == 2:
        return data.replace(b"obj", b"obj " + b"[" * _big(rng), 1)
    return data.replace(b"%%EOF", b"")


MUTATORS: dict[str, list[tuple[str, Mutator]]] = {
    "bytes": [
        ("flip_bytes", flip_bytes),
        ("insert_interesting", insert_interesting),
        ("delete_chunk", delete_chunk),
        ("duplicate_chunk", duplicate_chunk),
        ("truncate", truncate),
    ],
    "mail": [
        ("encoded_words", encoded_words),
        ("long_header", long_header),
        ("many_params", many_params),
        ("many_headers", many_headers),
        ("bad_charset", bad_charset),
        ("bad_encoding", bad_encoding),
        ("repeat_boundary", repeat_boundary),
        ("nest_boundary", nest_boundary),
        ("drop_boundaries", drop_boundaries),
        ("html_body", html_body),
    ],
    "zip": [
        ("zip_corrupt_member", zip_corrupt_member),
        ("zip_sizes", zip_sizes),
        ("zip_inner_xml", zip_inner_xml),
        ("zip_many_entries", zip_many_entries),
    ],
    "xml": [("mutate_xml", mutate_xml)],
    "pdf": [
        ("pdf_stream", pdf_stream),
        ("pdf_numbers", pdf_numbers),
        ("pdf_structure", pdf_structure),
    ],
}
MUTATORS["docx"] = MUTATORS["zip"]


def wrap_in_mail(rng: random.Random, data: bytes, kind: str) -> bytes:
    """A mail carrying ``data`` as an attachment (base64), as a writer would send it."""
    name = {"docx": "formulaire.docx", "pdf": "formulaire.pdf", "xml": "cda.xml"}.get(
        kind, "IHE_XDM.ZIP"
    )
    encoded = base64.encodebytes(data)
    return (
        b"From: Dr Martin <paul.martin@medecin.mssante.fr>\r\n"
        b"To: signalement@cpts.test\r\nSubject: Signalement\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="SEP"\r\n\r\n'
        b"--SEP\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNom : DUPONT\r\n"
        b"--SEP\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="' + name.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--SEP--\r\n"
    )


def mutate(
    rng: random.Random, data: bytes, kind: str, others: Sequence[bytes]
) -> tuple[bytes, str, list[str]]:
    """``data`` mutated 1 to 3 times; the input's kind ("mail" or a document's) and the
    names of the mutators applied."""
    applied: list[str] = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        pool = MUTATORS.get(kind, []) if rng.random() < 0.7 else MUTATORS["bytes"]
        if rng.random() < 0.05 and others:
            other = rng.choice(others)
            cut = _pos(rng, data)
            data = data[:cut] + other[_pos(rng, other) :]
            applied.append("splice")
            continue
        if not pool:
            pool = MUTATORS["bytes"]
        name, mutator = rng.choice(pool)
        data = mutator(rng, data)[:MAX_INPUT_BYTES]
        applied.append(name)
    if kind != "mail" and rng.random() < 0.3:
        data = wrap_in_mail(rng, data, kind)
        applied.append("wrap_in_mail")
        kind = "mail"
    return data, kind, applied
