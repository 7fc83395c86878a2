"""Walking a MIME tree: body texts, attachments, reports, S/MIME and TNEF.

Uses the stdlib ``email`` package with ``policy.default``; every header or
payload access is guarded, because real mail breaks every rule.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Literal

from parsers.limits import ParseLimits
from parsers.problems import problem
from parsers.request import Problem
from parsers.smime_content import CmsError, cms_content_type, extract_signed_content
from parsers.text import decode_bytes

__all__ = ["MimeAttachment", "MimeContent", "parse_bytes", "safe_filename", "walk_message"]

ReportKind = Literal["dsn", "mdn"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PKCS7_MIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_PKCS7_SIGNATURE = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}
_TNEF = {"application/ms-tnef", "application/vnd.ms-tnef"}


@dataclass
class MimeAttachment:
    filename: str
    content_type: str
    data: bytes | None  # None when over the size limit or undecodable
    size: int
    locator: str
    forwarded: bool = False


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


def parse_bytes(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):  # RFC 2231 triple
        try:
            from email.utils import collapse_rfc2231_value

            return collapse_rfc2231_value(value)
        except Exception:
            return None
    return value if isinstance(value, str) else None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        name = _param(part, "name")
    return name or None


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:
        return None
    return value.lower() if isinstance(value, str) else None


def _payload_bytes(part: Message) -> bytes | None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    try:
        raw = part.get_payload()
    except Exception:
        return None
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return None


def _encoded_size(part: Message) -> int:
    try:
        raw = part.get_payload()
    except Exception:
        return 0
    return len(raw) if isinstance(raw, str) else 0


class _Walker:
    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.content = MimeContent()
        self._too_many_parts = False
        self._too_deep = False
        self._too_many_attachments = False

    def text_of(self, part: Message) -> str:
        data = _payload_bytes(part) or b""
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        text, fallback = decode_bytes(data, charset)
        if fallback and charset is not None:
            self.content.charset_fallback = True
        return text

    def add_attachment(self, part: Message, ctype: str, locator: str, forwarded: bool) -> None:
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
        # base64 grows by 4/3: refuse before decoding a part that cannot fit.
        if _encoded_size(part) * 3 // 4 > self.limits.max_attachment_bytes + 1024:
            content.problems.append(
                problem(
                    "mime.attachment_too_large",
                    name=name,
                    limit=self.limits.max_attachment_bytes,
                    source=name,
                )
            )
            content.attachments.append(
                MimeAttachment(name, ctype, None, _encoded_size(part) * 3 // 4, locator, forwarded)
            )
            return
        data = _payload_bytes(part)
        if data is None:
            content.problems.append(problem("mime.attachment_unreadable", name=name, source=name))
            content.attachments.append(MimeAttachment(name, ctype, None, 0, locator, forwarded))
            return
        if len(data) > self.limits.max_attachment_bytes:
            content.problems.append(
                problem(
                    "mime.attachment_too_large",
                    name=name,
                    limit=self.limits.max_attachment_bytes,
                    source=name,
                )
            )
            content.attachments.append(
                MimeAttachment(name, ctype, None, len(data), locator, forwarded)
            )
            return
        content.attachments.append(MimeAttachment(name, ctype, data, len(data), locator, forwarded))
        if ctype in _TNEF or name.lower() == "winmail.dat":
            content.problems.append(problem("mime.tnef", source=name))

    def smime(
        self, part: Message, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        data = _payload_bytes(part) or b""
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
            message = parse_bytes(inner)
        except Exception:
            self.content.problems.append(problem("mime.smime_unreadable"))
            return
        self.walk(message, f"{locator}.smime", depth + 1, forwarded, in_report)

    def walk(
        self, part: Message, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        content = self.content
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
        self, part: Message, ctype: str, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        try:
            children = part.get_payload()
        except Exception:
            children = None
        if not isinstance(children, list):
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
                if isinstance(child, Message):
                    self.walk(
                        child, f"{locator}.{index}", depth + 1, forwarded, in_report=index > 1
                    )
            return
        if ctype == "multipart/signed":
            children = children[:1]  # the signature part holds no content
        for index, child in enumerate(children, start=1):
            if isinstance(child, Message):
                self.walk(child, f"{locator}.{index}", depth + 1, forwarded, in_report)

    def walk_embedded(
        self, part: Message, locator: str, depth: int, forwarded: bool, in_report: bool
    ) -> None:
        if in_report:
            return
        try:
            payload = part.get_payload()
        except Exception:
            payload = None
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            # A base64-encoded message/rfc822 (against RFC 2046, but seen) is left unparsed.
            data = _payload_bytes(part)
            if not data:
                return
            try:
                inner = parse_bytes(data)
            except Exception:
                return
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in ("base64", "quoted-printable") and not inner.is_multipart():
            # The parser took the encoded text for a header-less message: decode and reparse.
            text = inner.get_payload()
            if isinstance(text, str):
                if encoding == "base64":
                    decoded = decode_base64_loose(text)
                else:
                    decoded = quopri.decodestring(text.encode("ascii", "replace"))
                if decoded:
                    try:
                        inner = parse_bytes(decoded)
                    except Exception:
                        return
        self.walk(inner, f"{locator}.1", depth + 1, True, in_report)


def walk_message(message: Message, limits: ParseLimits) -> MimeContent:
    walker = _Walker(limits)
    walker.walk(message, "partie 1", 0, False, False)
    content = walker.content
    if content.report_kind is None and _content_type(message) == "multipart/report":
        report_type = (_param(message, "report-type") or "").lower()
        content.report_kind = "mdn" if "disposition" in report_type else "dsn"
    if content.charset_fallback:
        content.problems.append(problem("mime.charset_fallback"))
    return content


def decode_base64_loose(text: str) -> bytes | None:
    """Base64 with whitespace and missing padding tolerated; None when it is not base64."""
    compact = re.sub(r"\s+", "", text)
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
