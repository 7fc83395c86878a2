"""Walking a MIME tree: body texts, attachments, reports, S/MIME and TNEF.

The tree comes from ``mime_split`` (the stdlib's structure, over slices of the
raw message); headers are stdlib ``EmailMessage`` objects with
``policy.default``. Every header or payload access is guarded, because real
mail breaks every rule. Attachments are hashed and sniffed while streaming;
only the ones a parser reads are decoded whole, later, one at a time.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Literal

from parsers.header_guard import bound_header_block
from parsers.header_policy import PARSE_POLICY
from parsers.limits import ParseLimits
from parsers.mime_body import (
    base64_pieces,
    digest,
    encoded_size,
    is_ascii,
    payload_bytes,
    payload_text,
    transfer_encoding,
)
from parsers.mime_split import Buffer, MimePart, split_message
from parsers.problems import problem
from parsers.request import Problem
from parsers.smime_content import CmsError, cms_content_type, extract_signed_content
from parsers.text import decode_bytes

__all__ = [
    "MimeAttachment",
    "MimeContent",
    "parse_bytes",
    "safe_filename",
    "split_mime",
    "walk_message",
    "without_bom",
]

ReportKind = Literal["dsn", "mdn"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PKCS7_MIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_PKCS7_SIGNATURE = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}
_TNEF = {"application/ms-tnef", "application/vnd.ms-tnef"}
# What ``\s`` matches in ASCII text (str patterns also count \x1c-\x1f as space).
_ASCII_SPACE = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


@dataclass
class MimeAttachment:
    filename: str
    content_type: str
    size: int
    locator: str
    forwarded: bool = False
    sha256: str = ""  # of the decoded content; "" when unreadable
    head: bytes = b""  # the first decoded bytes, enough to sniff the type
    part: MimePart | None = None  # None when over the size limit or undecodable
    # A resource of a multipart/related body (a cid: image): part of the text, not a file
    # its writer attached. Explicit "Content-Disposition: attachment" is never embedded.
    embedded: bool = False

    @property
    def readable(self) -> bool:
        return self.part is not None

    def load(self) -> bytes:
        """The whole decoded content (decoded now; the caller drops it when done)."""
        if self.part is None:
            raise ValueError("attachment not readable")
        data = payload_bytes(self.part)
        if data is None:
            raise ValueError("attachment not readable")
        return data


@dataclass
class MimeContent:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded_text: list[str] = field(default_factory=list)
    attachments: list[MimeAttachment] = field(default_factory=list)
    report_kind: ReportKind | None = None
    problems: list[Problem] = field(default_factory=list)
    parts_seen: int = 0
    charset_fallback: bool = False


def clean_str(value: str) -> str:
    """Undo surrogate escapes left by 8-bit headers so the text can be serialised."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
        text, _ = decode_bytes(raw)
        return text.encode("utf-8", "replace").decode("utf-8")


def safe_filename(name: str | None, fallback: str) -> str:
    if not name:
        return fallback
    name = clean_str(str(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip().strip(".")
    return name[:200] or fallback


def parse_bytes(raw: bytes, limits: ParseLimits | None = None) -> EmailMessage:
    """The stdlib parse (whole tree in memory): for headers-only input, bounded first."""
    raw, _ = bound_header_block(raw, limits or ParseLimits())
    parsed = BytesParser(policy=PARSE_POLICY).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def without_bom(raw: bytes) -> bytes | memoryview:
    """``raw`` without a leading UTF-8 BOM (which would hide every header), not copied."""
    return memoryview(raw)[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def split_mime(data: Buffer, limits: ParseLimits) -> MimePart:
    """The MIME tree of a message, bodies left in place in ``data``."""
    # Deeper parts are never walked; their content need not be split.
    return split_message(data, max_depth=limits.max_mime_depth, limits=limits)


def _content_type(part: MimePart) -> str:
    try:
        return part.headers.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _param(part: MimePart, name: str) -> str | None:
    try:
        value = part.headers.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):  # RFC 2231 triple
        try:
            from email.utils import collapse_rfc2231_value

            return collapse_rfc2231_value(value)
        except Exception:
            return None
    return value if isinstance(value, str) else None


def _filename(part: MimePart) -> str | None:
    try:
        name = part.headers.get_filename()
    except Exception:
        name = None
    if not name:
        name = _param(part, "name")
    return name or None


def _disposition(part: MimePart) -> str | None:
    try:
        value = part.headers.get_content_disposition()
    except Exception:
        return None
    return value.lower() if isinstance(value, str) else None


class _Walker:
    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.content = MimeContent()
        self._too_many_parts = False
        self._too_deep = False
        self._too_many_attachments = False
        self._resources = 0  # how many multipart/related non-root parts enclose this one
        self.notes: set[str] = set()  # what the splitter cut, from every tree walked

    def text_of(self, part: MimePart) -> str:
        data = payload_bytes(part) or b""
        try:
            charset = part.headers.get_content_charset()
        except Exception:
            charset = None
        text, fallback = decode_bytes(data, charset)
        if fallback and charset is not None:
            self.content.charset_fallback = True
        return text

    def _too_large(self, name: str) -> None:
        self.content.problems.append(
            problem(
                "mime.attachment_too_large",
                name=name,
                limit=self.limits.max_attachment_bytes,
                source=name,
            )
        )

    def add_attachment(self, part: MimePart, ctype: str, locator: str, forwarded: bool) -> None:
        content = self.content
        if len(content.attachments) >= self.limits.max_attachments:
            if not self._too_many_attachments:
                self._too_many_attachments = True
                content.problems.append(
                    problem("message.too_many_attachments", limit=self.limits.max_attachments)
                )
            return
        index = len(content.attachments) + 1
        name = safe_filename(_filename(part), f"piece-jointe-{index}")
        embedded = self._resources > 0 and _disposition(part) != "attachment"
        # base64 grows by 4/3: refuse before decoding a part that cannot fit.
        bound = self.limits.max_attachment_bytes + 1024
        if part.raw_size() * 3 // 4 > bound:  # the exact estimate is never larger
            estimate = encoded_size(part) * 3 // 4
            if estimate > bound:
                self._too_large(name)
                content.attachments.append(
                    MimeAttachment(name, ctype, estimate, locator, forwarded, embedded=embedded)
                )
                return
        found = digest(part)
        if found is None:
            content.problems.append(problem("mime.attachment_unreadable", name=name, source=name))
            content.attachments.append(
                MimeAttachment(name, ctype, 0, locator, forwarded, embedded=embedded)
            )
            return
        if found.size > self.limits.max_attachment_bytes:
            self._too_large(name)
            content.attachments.append(
                MimeAttachment(name, ctype, found.size, locator, forwarded, embedded=embedded)
            )
            return
        content.attachments.append(
            MimeAttachment(
                name,
                ctype,
                found.size,
                locator,
                forwarded,
                found.sha256,
                found.head,
                part,
                embedded,
            )
        )
        if ctype in _TNEF or name.lower() == "winmail.dat":
            content.problems.append(problem("mime.tnef", source=name))

    def smime(
        self, part: MimePart, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        data = payload_bytes(part) or b""
        smime_type = (_param(part, "smime-type") or "").lower()
        try:
            kind = cms_content_type(data)
            if kind == "enveloped" or smime_type == "enveloped-data":
                self.content.problems.append(problem("mime.smime_encrypted"))
                return
            inner = extract_signed_content(data)
        except CmsError:
            if smime_type == "enveloped-data" or smime_type == "":
                self.content.problems.append(problem("mime.smime_encrypted"))
            else:
                self.content.problems.append(problem("mime.smime_unreadable"))
            return
        try:
            message = split_mime(inner, self.limits)  # a view into ``data``: no copy
        except Exception:
            self.content.problems.append(problem("mime.smime_unreadable"))
            return
        self.walk(message, f"{locator}.smime", depth + 1, forwarded, in_report)

    def walk(
        self, part: MimePart, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        content = self.content
        self.notes |= part.notes
        content.parts_seen += 1
        if content.parts_seen > self.limits.max_mime_parts:
            if not self._too_many_parts:
                self._too_many_parts = True
                content.problems.append(problem("message.too_many_parts"))
            return
        if depth > self.limits.max_mime_depth:
            if not self._too_deep:
                self._too_deep = True
                content.problems.append(problem("message.too_deep"))
            return
        ctype = _content_type(part)
        if ctype in ("message/rfc822", "message/global"):
            self.walk_embedded(part, locator, depth, forwarded, in_report)
            return
        if part.is_multipart():
            self.walk_multipart(part, ctype, locator, depth, forwarded, in_report)
            return
        if ctype == "message/delivery-status":
            if not forwarded and content.report_kind is None:
                content.report_kind = "dsn"
            return
        if ctype == "message/disposition-notification":
            if not forwarded and content.report_kind is None:
                content.report_kind = "mdn"
            return
        if ctype in _PKCS7_MIME or (
            ctype == "application/octet-stream" and (_filename(part) or "").lower().endswith(".p7m")
        ):
            self.smime(part, locator, depth, forwarded, in_report)
            return
        if ctype in _PKCS7_SIGNATURE:
            return
        disposition = _disposition(part)
        if (
            ctype in ("text/plain", "text/html")
            and disposition != "attachment"
            and (_filename(part) is None or disposition == "inline")
        ):
            if in_report:
                return
            text = self.text_of(part)
            if forwarded:
                content.forwarded_text.append(text)
            elif ctype == "text/plain":
                content.plain.append(text)
            else:
                content.html.append(text)
            return
        if ctype.startswith("text/") and disposition is None and _filename(part) is None:
            return  # text/rfc822-headers, text/foo: nothing to read as a request
        if in_report:
            return
        self.add_attachment(part, ctype, locator, forwarded)

    def walk_multipart(
        self,
        part: MimePart,
        ctype: str,
        locator: str,
        depth: int,
        forwarded: bool,
        in_report: bool,
    ) -> None:
        children = part.children
        if children is None:
            return
        if ctype == "multipart/report":
            report_type = (_param(part, "report-type") or "").lower()
            if not forwarded and self.content.report_kind is None:
                if report_type == "delivery-status":
                    self.content.report_kind = "dsn"
                elif report_type == "disposition-notification":
                    self.content.report_kind = "mdn"
            # Human text of the report is read; the returned original is not a request.
            for index, child in enumerate(children, start=1):
                self.walk(child, f"{locator}.{index}", depth + 1, forwarded, in_report=index > 1)
            return
        if ctype == "multipart/signed":
            children = children[:1]  # the signature part holds no content
        root = _related_root(part, children) if ctype == "multipart/related" else None
        for index, child in enumerate(children, start=1):
            resource = root is not None and index - 1 != root
            self._resources += int(resource)
            try:
                self.walk(child, f"{locator}.{index}", depth + 1, forwarded, in_report)
            finally:
                self._resources -= int(resource)

    def walk_embedded(
        self, part: MimePart, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        if in_report or not part.children:
            return
        inner = part.children[0]
        encoding = str(part.headers.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in ("base64", "quoted-printable") and not inner.is_multipart():
            # The parser took the encoded text for a header-less message: decode and reparse.
            decoded = _decode_embedded(inner, encoding)
            if decoded:
                try:
                    inner = split_mime(decoded, self.limits)
                except Exception:
                    return
        self.walk(inner, f"{locator}.1", depth + 1, True, in_report)


def _related_root(part: MimePart, children: list[MimePart]) -> int:
    """RFC 2387: the child named by ``start`` (a Content-ID), else the first one."""
    start = (_param(part, "start") or "").strip()
    if start:
        for index, child in enumerate(children):
            if _content_id(child) == start:
                return index
    return 0


def _content_id(part: MimePart) -> str | None:
    try:
        value = part.headers.get("Content-ID")
    except Exception:
        return None
    return None if value is None else str(value).strip()


def _decode_embedded(inner: MimePart, encoding: str) -> bytes | bytearray | None:
    """The body of a transfer-encoded message/rfc822, decoded as its ``get_payload()`` text."""
    if not is_ascii(inner):
        text = payload_text(inner)  # raises where the stdlib's get_payload() raised
        if encoding == "base64":
            return decode_base64_loose(text)
        return quopri.decodestring(text.encode("ascii", "replace"))
    transfer_encoding(inner)  # evaluated (and may raise) as get_payload() did
    if encoding == "quoted-printable":
        views = inner.raw_views()
        return binascii.a2b_qp(views[0] if len(views) == 1 else b"".join(views))
    # decode_base64_loose on the ASCII bytes, piece by piece: no str or compact copy
    decoded = bytearray()
    try:
        for piece in base64_pieces(inner.raw_views(), drop=_ASCII_SPACE, strict=True):
            decoded += piece
    except binascii.Error:
        return None
    return decoded


def walk_message(message: MimePart, limits: ParseLimits) -> MimeContent:
    walker = _Walker(limits)
    walker.walk(message, "partie 1", 0, False, False)
    content = walker.content
    if content.report_kind is None and _content_type(message) == "multipart/report":
        report_type = (_param(message, "report-type") or "").lower()
        content.report_kind = "mdn" if "disposition" in report_type else "dsn"
    if content.charset_fallback:
        content.problems.append(problem("mime.charset_fallback"))
    reported = {p.code for p in content.problems}
    content.problems.extend(problem(code) for code in sorted(walker.notes - reported))
    return content


def decode_base64_loose(text: str) -> bytes | None:
    """Base64 with whitespace and missing padding tolerated; None when it is not base64."""
    compact = re.sub(r"\s+", "", text)
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
