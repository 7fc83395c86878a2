"""Transfer-decoding the body of a split MIME part, as ``Message.get_payload`` would.

The results are byte for byte those of the stdlib (including its handling of
bad base64, uuencode and 8-bit data), but the input is read from memoryviews of
the message, and ``digest`` decodes in bounded chunks so that an attachment
that is only hashed and sniffed is never held whole in memory.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from parsers.mime_split import MimePart

__all__ = [
    "CHUNK_BYTES",
    "HEAD_BYTES",
    "Digest",
    "base64_pieces",
    "decode_payload",
    "digest",
    "encoded_size",
    "is_ascii",
    "payload_bytes",
    "payload_text",
    "transfer_encoding",
]

HEAD_BYTES = 4096  # sniffing a document type reads at most 2048 bytes
CHUNK_BYTES = 1 << 20
_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_BASE64 = bytes(sorted(set(range(256)) - set(_BASE64_ALPHABET)))
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_LF = re.compile(rb"\n")


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str
    head: bytes  # the first HEAD_BYTES decoded bytes


def transfer_encoding(part: MimePart) -> str:
    return str(part.headers.get("content-transfer-encoding", "")).lower()


def is_ascii(part: MimePart) -> bool:
    return not any(_NON_ASCII.search(view) for view in part.raw_views())


def _joined(part: MimePart) -> bytes | memoryview:
    views = part.raw_views()
    if len(views) == 1:
        return views[0]
    return b"".join(views)


def payload_text(part: MimePart) -> str:
    """``get_payload()`` of a leaf: 8-bit bodies come back decoded with their charset."""
    transfer_encoding(part)  # evaluated (and may raise) as in the stdlib
    data = part.raw_bytes()
    if is_ascii(part):
        return data.decode("ascii")
    charset = part.headers.get_param("charset", "ascii")
    if not isinstance(charset, str):
        raise TypeError("charset")  # bytes.decode(<RFC 2231 tuple>) raises there too
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("ascii", "replace")


def encoded_size(part: MimePart) -> int:
    """``len(get_payload())`` when it is a string, else 0 (the walker's estimate)."""
    if part.children is not None:
        return 0
    try:
        if is_ascii(part):
            transfer_encoding(part)
            return part.raw_size()
        return len(payload_text(part))
    except Exception:
        return 0


def _decode_b(encoded: bytes) -> bytes:
    """The result of ``email._encoded_words.decode_b`` (padding fixed, junk ignored)."""
    pad_error = len(encoded) % 4
    missing = b"==="[: 4 - pad_error] if pad_error else b""
    try:
        return binascii.a2b_base64(encoded + missing, strict_mode=True)
    except binascii.Error:
        pass
    try:
        return binascii.a2b_base64(encoded)
    except binascii.Error:
        pass
    try:
        return binascii.a2b_base64(encoded + b"==")
    except binascii.Error:
        return encoded


def _decode_uu(encoded: bytes) -> bytes:
    """``email.message._decode_uu``: raises ValueError when there is no usable data."""
    decoded: list[bytes] = []
    lines = iter(encoded.splitlines())
    for line in lines:
        if line.startswith(b"begin "):
            mode, _, _ = line.removeprefix(b"begin ").partition(b" ")
            try:
                int(mode, base=8)
            except ValueError:
                continue
            break
    else:
        raise ValueError("`begin` line not found")
    for line in lines:
        if not line:
            raise ValueError("Truncated input")
        if line.strip(b" \t\r\n\f") == b"end":
            break
        try:
            decoded.append(binascii.a2b_uu(line))
        except binascii.Error:
            count = (((line[0] - 32) & 63) * 4 + 5) // 3  # broken encoders, as the stdlib
            decoded.append(binascii.a2b_uu(line[:count]))
    return b"".join(decoded)


def decode_payload(part: MimePart) -> bytes:
    """``get_payload(decode=True)`` of a leaf; raises where the stdlib raises."""
    encoding = transfer_encoding(part)
    data = _joined(part)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)  # line breaks and junk are skipped
        except binascii.Error:
            return _decode_b(b"".join(bytes(data).splitlines()))
    if encoding in _UUENCODE:
        raw = bytes(data)
        try:
            return _decode_uu(raw)
        except ValueError:
            return raw
    return bytes(data)


def payload_bytes(part: MimePart) -> bytes | None:
    """The decoded body, else the raw one, else None: as ``_payload_bytes`` did on a Message."""
    if part.children is not None:
        return None
    try:
        return decode_payload(part)
    except Exception:  # noqa: S110  the stdlib path fell back to the undecoded text
        pass
    try:
        return payload_text(part).encode("utf-8", "surrogateescape")
    except Exception:
        return None


def base64_pieces(
    views: Iterable[memoryview], *, drop: bytes, strict: bool, chunk: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """One ``a2b_base64`` call over the body with ``drop`` bytes deleted, in pieces.

    ``strict`` also pads the end with "=" (as ``decode_base64_loose`` does).
    Raises binascii.Error where the one call would. Pieces are cut on 4-byte
    quanta before any "=", so each decodes on its own; from the first "=",
    the padding rules need the rest in one piece.
    """
    carry = b""
    tail: list[bytes] = []
    for view in views:
        for offset in range(0, len(view), chunk):
            piece = view[offset : offset + chunk].tobytes().translate(None, drop)
            if tail or b"=" in piece:
                tail.append(piece)
                continue
            piece = carry + piece
            # Keep the last quantum back: strict mode treats "=" at the very start of
            # its input differently from "=" after data, so the rest must not start there.
            cut = max(0, len(piece) - len(piece) % 4 - 4)
            carry = piece[cut:]
            if cut:
                yield binascii.a2b_base64(memoryview(piece)[:cut], strict_mode=strict)
    rest = carry + b"".join(tail)
    if strict:
        rest += b"=" * (-len(rest) % 4)
    if rest:
        yield binascii.a2b_base64(rest, strict_mode=strict)


def _qp_chunks(views: list[memoryview], chunk: int) -> Iterator[bytes]:
    """``a2b_qp`` of the whole body, cut after line feeds (where its state is reset)."""
    if len(views) != 1:
        yield binascii.a2b_qp(b"".join(views))
        return
    view = views[0]
    start, size = 0, len(view)
    while start < size:
        stop = start + chunk
        if stop < size:
            found = _LF.search(view, stop)
            stop = found.end() if found is not None else size
        else:
            stop = size
        yield binascii.a2b_qp(view[start:stop])
        start = stop


def _summarise(pieces: Iterable[bytes | memoryview]) -> Digest:
    hasher = hashlib.sha256()
    size = 0
    head = bytearray()
    for piece in pieces:
        hasher.update(piece)
        size += len(piece)
        if len(head) < HEAD_BYTES:
            head += piece[: HEAD_BYTES - len(head)]
    return Digest(size, hasher.hexdigest(), bytes(head))


def digest(part: MimePart, *, chunk: int = CHUNK_BYTES) -> Digest | None:
    """Size, SHA-256 and first bytes of ``payload_bytes(part)``, decoding chunk by chunk."""
    if part.children is not None:
        return None
    try:
        encoding = transfer_encoding(part)
        views = part.raw_views()
        if encoding == "base64":
            return _summarise(base64_pieces(views, drop=_NOT_BASE64, strict=False, chunk=chunk))
        if encoding == "quoted-printable":
            return _summarise(_qp_chunks(views, chunk))
        if encoding not in _UUENCODE:
            return _summarise(views)
    except Exception:  # noqa: S110  rare shapes: decode whole, exactly as the stdlib
        pass
    data = payload_bytes(part)
    return None if data is None else _summarise([data])
