"""A tiny DER writer for S/MIME SignedData fixtures (no signature: the parser does not verify)."""

from __future__ import annotations


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def signed_data(content: bytes) -> bytes:
    oid_signed = _tlv(0x06, bytes.fromhex("2a864886f70d010702"))
    oid_data = _tlv(0x06, bytes.fromhex("2a864886f70d010701"))
    encap = _tlv(0x30, oid_data + _tlv(0xA0, _tlv(0x04, content)))
    body = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x31, b"") + encap + _tlv(0x31, b""))
    return _tlv(0x30, oid_signed + _tlv(0xA0, body))
