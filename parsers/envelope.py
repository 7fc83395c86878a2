"""Header-level facts about a message: identity, threading, and auto-reply markers.

``envelope_from_raw`` is the one header-only reader of raw mail in the tree: it
reads the header block (bounded by ``ParseLimits.max_header_bytes``), never the
body, and never raises.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from pydantic import BaseModel, Field

from parsers.header_guard import bound_header_block
from parsers.header_policy import PARSE_POLICY
from parsers.limits import ParseLimits
from parsers.mime_walk import clean_str

__all__ = [
    "Envelope",
    "clean_envelope",
    "envelope_from_raw",
    "extract_references",
    "find_case_reference",
    "message_id_from_raw",
    "read_envelope",
]

_MSGID = re.compile(r"<[^<>\s]+>")
_BOM = b"\xef\xbb\xbf"
# The end of the header block: a line break, then an empty line (as the feed parser splits).
_BLANK_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r|\n)")
_SURROGATE = re.compile("[\udc80-\udcff]")
_MAX_MESSAGE_ID = 998  # RFC 5322 line length; the store's column size
CASE_REFERENCE = re.compile(r"\bAIG-(\d{4})-(\d{6})\b")


class Envelope(BaseModel):
    message_id: str | None = None  # the first "<...>" of Message-ID
    # Message-ID as written (trimmed, at most 998 characters, undecodable bytes as U+FFFD):
    # the key duplicate copies are recognised by, even when it is not a valid "<...>".
    message_id_raw: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    subject: str = ""
    from_addr: str | None = None  # lower-cased address only
    from_name: str | None = None
    reply_to: str | None = None
    to_addrs: list[str] = Field(default_factory=list)
    date: datetime | None = None
    return_path: str | None = None  # None: header absent; "": null sender "<>"
    auto_submitted: str | None = None
    precedence: str | None = None
    auto_response_suppress: str | None = None
    list_id: str | None = None
    content_type: str = "text/plain"
    report_type: str | None = None  # "delivery-status", "disposition-notification"
    disposition_notification_to: str | None = None  # only when it names one address


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the envelope read
        return None
    if value is None:
        return None
    return str(value).strip()


def _all_headers(msg: EmailMessage, name: str) -> list[str]:
    try:
        values = msg.get_all(name) or []
    except Exception:  # one malformed occurrence must not hide the others
        return [v for v in (_header(msg, name),) if v]
    return [text for value in values if (text := str(value).strip())]


def _raw_message_id(msg: EmailMessage) -> str | None:
    """The first Message-ID header as written: no header parsing that could reshape it."""
    try:
        for name, value in msg.raw_items():
            if str(name).lower() == "message-id":
                text = _SURROGATE.sub("\ufffd", str(value))  # an 8-bit byte, as compat32 shows it
                return text.strip()[:_MAX_MESSAGE_ID] or None
    except Exception:
        return None
    return None


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """``getaddresses``, which recurses once per "(" of a comment: none when it fails."""
    try:
        return getaddresses(values)
    except (RecursionError, ValueError, IndexError, TypeError):
        return []


def _first_address(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    pairs = _addresses([value])
    for name, addr in pairs:
        if addr and "@" in addr:
            return addr.strip().lower(), (name or None)
    return None, None


def _only_address(value: str | None) -> str | None:
    """The one address of a header; None when it names none or several (RFC 8098 2.1:
    an MDN is then not sent without asking a person)."""
    found = {a.strip().lower() for _, a in _addresses([value or ""]) if a and "@" in a}
    return found.pop() if len(found) == 1 else None


def extract_references(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def find_case_reference(text: str) -> str | None:
    match = CASE_REFERENCE.search(text)
    return match.group(0) if match else None


def read_envelope(msg: EmailMessage) -> Envelope:
    from_addr, from_name = _first_address(_header(msg, "From"))
    reply_to, _ = _first_address(_header(msg, "Reply-To"))
    to_values = [*_all_headers(msg, "To"), *_all_headers(msg, "Cc")]
    to_addrs = [a.lower() for _, a in _addresses(to_values) if a and "@" in a]
    date: datetime | None = None
    raw_date = _header(msg, "Date")
    if raw_date:
        try:
            date = parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            date = None
    return_path_raw = _header(msg, "Return-Path")
    return_path: str | None = None
    if return_path_raw is not None:
        found, _ = _first_address(return_path_raw)
        return_path = found or ""
    dnt = _only_address(_header(msg, "Disposition-Notification-To"))
    message_ids = extract_references(_header(msg, "Message-ID"))
    in_reply_to = extract_references(_header(msg, "In-Reply-To"))
    try:
        content_type = msg.get_content_type()
        report_type = msg.get_param("report-type")
    except Exception:
        content_type, report_type = "text/plain", None
    return Envelope(
        message_id=message_ids[0] if message_ids else None,
        message_id_raw=_raw_message_id(msg),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=extract_references(_header(msg, "References")),
        subject=_header(msg, "Subject") or "",
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to,
        to_addrs=to_addrs,
        date=date,
        return_path=return_path,
        auto_submitted=(_header(msg, "Auto-Submitted") or None),
        precedence=(_header(msg, "Precedence") or None),
        auto_response_suppress=_header(msg, "X-Auto-Response-Suppress"),
        list_id=_header(msg, "List-Id"),
        content_type=content_type,
        report_type=str(report_type).lower() if isinstance(report_type, str) else None,
        disposition_notification_to=dnt,
    )


def clean_envelope(envelope: Envelope) -> Envelope:
    """Undo surrogate escapes left by 8-bit headers, so that the envelope can be serialised."""
    updates: dict[str, object] = {}
    for name, value in envelope:
        if isinstance(value, str):
            cleaned = clean_str(value)
            if cleaned != value:
                updates[name] = cleaned
        elif isinstance(value, list) and any(isinstance(v, str) for v in value):
            updates[name] = [clean_str(v) if isinstance(v, str) else v for v in value]
    return envelope.model_copy(update=updates) if updates else envelope


def _header_block(raw: bytes, max_bytes: int) -> bytes:
    """The header block of ``raw`` (a leading BOM skipped), at most ``max_bytes`` long.

    Cut after the first empty line; when the block is longer than ``max_bytes``,
    its last, incomplete line is dropped rather than read as a whole header.
    """
    start = len(_BOM) if raw.startswith(_BOM) else 0
    head = bytes(raw[start : start + max(0, max_bytes)])
    if head[:1] in (b"\r", b"\n"):
        return b""  # an empty line first: no headers at all
    found = _BLANK_LINE.search(head)
    if found is not None:
        return head[: found.end()]
    if len(raw) - start > len(head):
        last = max(head.rfind(b"\n"), head.rfind(b"\r"))
        head = head[: last + 1]
    return head


def envelope_from_raw(raw: bytes, limits: ParseLimits | None = None) -> Envelope:
    """The envelope of raw mail bytes, read from the header block only. Never raises.

    Garbage, a missing or oversized header block, or undecodable headers give
    an envelope with what could be read (``Envelope()`` when nothing could).
    """
    limits = limits or ParseLimits()
    try:
        block, _ = bound_header_block(_header_block(raw, limits.max_header_bytes), limits)
        headers = BytesParser(policy=PARSE_POLICY).parsebytes(block, headersonly=True)
        if not isinstance(headers, EmailMessage):
            return Envelope()
        return clean_envelope(read_envelope(headers))
    except Exception:  # hostile input gives an empty envelope, never an exception
        return Envelope()


def message_id_from_raw(raw: bytes, limits: ParseLimits | None = None) -> str | None:
    """Only ``Envelope.message_id_raw``, for the ingest's duplicate check: one header read,
    none of the rest of the envelope (ingest stores every message, so it stays cheap).
    Never raises."""
    limits = limits or ParseLimits()
    try:
        block, _ = bound_header_block(_header_block(raw, limits.max_header_bytes), limits)
        headers = BytesParser(policy=policy.compat32).parsebytes(block, headersonly=True)
        value = headers.get("Message-ID")
    except Exception:  # hostile input: no Message-ID, never an exception
        return None
    if value is None:
        return None
    text = _SURROGATE.sub("\ufffd", str(value))
    return text.strip()[:_MAX_MESSAGE_ID] or None
