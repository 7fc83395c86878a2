"""Header-level facts about a message: identity, threading, and auto-reply markers."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from pydantic import BaseModel, Field

__all__ = ["Envelope", "extract_references", "find_case_reference", "read_envelope"]

_MSGID = re.compile(r"<[^<>\s]+>")
CASE_REFERENCE = re.compile(r"\bAIG-(\d{4})-(\d{6})\b")


class Envelope(BaseModel):
    message_id: str | None = None
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
    disposition_notification_to: str | None = None


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the envelope read
        return None
    if value is None:
        return None
    return str(value).strip()


def _first_address(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    pairs = getaddresses([value])
    for name, addr in pairs:
        if addr and "@" in addr:
            return addr.strip().lower(), (name or None)
    return None, None


def extract_references(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def find_case_reference(text: str) -> str | None:
    match = CASE_REFERENCE.search(text)
    return match.group(0) if match else None


def read_envelope(msg: EmailMessage) -> Envelope:
    from_addr, from_name = _first_address(_header(msg, "From"))
    reply_to, _ = _first_address(_header(msg, "Reply-To"))
    to_values = [v for v in (_header(msg, "To"), _header(msg, "Cc")) if v]
    to_addrs = [a.lower() for _, a in getaddresses(to_values) if a and "@" in a]
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
    dnt, _ = _first_address(_header(msg, "Disposition-Notification-To"))
    message_ids = extract_references(_header(msg, "Message-ID"))
    in_reply_to = extract_references(_header(msg, "In-Reply-To"))
    try:
        content_type = msg.get_content_type()
        report_type = msg.get_param("report-type")
    except Exception:
        content_type, report_type = "text/plain", None
    return Envelope(
        message_id=message_ids[0] if message_ids else None,
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
