"""The signed content inside an S/MIME ``application/pkcs7-mime`` (CMS SignedData).

A minimal BER reader (definite and indefinite lengths), enough to pull the
encapsulated content out; the signature itself is not verified here. It reads
through a memoryview, so a large signed message is not copied: the content is
a view into the DER bytes (joined only when it comes in chunks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CmsError", "cms_content_type", "extract_signed_content"]

_OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
_OID_ENVELOPED_DATA = bytes.fromhex("2a864886f70d010703")
_MAX_DEPTH = 32
_MAX_NODES = 20_000


class CmsError(ValueError):
    """The bytes are not a CMS structure we can read."""


@dataclass
class _Node:
    tag: int
    constructed: bool
    content: memoryview | None = None
    children: list[_Node] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data)
        self.nodes = 0

    def read(self, pos: int, depth: int) -> tuple[_Node, int]:
        data = self.data
        self.nodes += 1
        if depth > _MAX_DEPTH or self.nodes > _MAX_NODES or pos + 2 > len(data):
            raise CmsError("structure")
        tag = data[pos]
        constructed = bool(tag & 0x20)
        pos += 1
        if tag & 0x1F == 0x1F:  # high tag number form
            while pos < len(data) and data[pos] & 0x80:
                pos += 1
            pos += 1
        if pos >= len(data):
            raise CmsError("truncated")
        first = data[pos]
        pos += 1
        node = _Node(tag, constructed)
        if first == 0x80:  # indefinite length: children until end-of-contents
            if not constructed:
                raise CmsError("indefinite primitive")
            while True:
                if pos + 2 > len(data):
                    raise CmsError("truncated")
                if data[pos] == 0 and data[pos + 1] == 0:
                    return node, pos + 2
                child, pos = self.read(pos, depth + 1)
                node.children.append(child)
        if first & 0x80:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise CmsError("length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        else:
            length = first
        end = pos + length
        if end > len(data):
            raise CmsError("truncated")
        if constructed:
            while pos < end:
                child, pos = self.read(pos, depth + 1)
                node.children.append(child)
        else:
            node.content = data[pos:end]
        return node, end


def _octets(node: _Node) -> bytes | memoryview:
    if not node.constructed:
        return node.content if node.content is not None else b""
    return b"".join(_octets(child) for child in node.children)


def _oid(node: _Node) -> bytes:
    return node.content.tobytes() if node.content is not None else b""


def _root(der: bytes | memoryview) -> _Node:
    root, _ = _Reader(der).read(0, 0)
    if root.tag != 0x30 or len(root.children) < 1 or root.children[0].tag != 0x06:
        raise CmsError("not ContentInfo")
    return root


def cms_content_type(der: bytes | memoryview) -> str:
    """ "signed", "enveloped" or "other"."""
    oid = _oid(_root(der).children[0])
    if oid == _OID_SIGNED_DATA:
        return "signed"
    if oid == _OID_ENVELOPED_DATA:
        return "enveloped"
    return "other"


def extract_signed_content(der: bytes | memoryview) -> bytes | memoryview:
    """The encapsulated content of a SignedData ContentInfo (a view into ``der``
    when it is in one piece); raises CmsError."""
    root = _root(der)
    if _oid(root.children[0]) != _OID_SIGNED_DATA or len(root.children) < 2:
        raise CmsError("not SignedData")
    explicit = root.children[1]
    if not explicit.children:
        raise CmsError("empty")
    signed_data = explicit.children[0]
    if len(signed_data.children) < 3:
        raise CmsError("SignedData")
    encap = signed_data.children[2]
    if len(encap.children) < 2 or not encap.children[1].children:
        raise CmsError("detached content")
    return _octets(encap.children[1].children[0])
