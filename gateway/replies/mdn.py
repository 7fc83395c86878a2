"""Compose a message disposition notification (RFC 8098), as ANS asks of application mailboxes.

``multipart/report; report-type=disposition-notification`` with (1) the French text,
(2) the ``message/disposition-notification`` fields and (3) the original mail, or only
its headers when it is too large to send back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime

from gateway.replies.compose import (
    ComposedReply,
    ReplyRenderer,
    _forwarded_mail,
    _header,
    _wire,
    subject_for,
    text_part,
)
from gateway.replies.facts import ReplyFacts, ReplyKind

__all__ = ["DISPOSITION", "ORIGINAL_MAX_BYTES", "Disposition", "compose_mdn"]

# An application mailbox processes; nobody "displays" the mail (RFC 8098 3.2.6).
DISPOSITION = "automatic-action/MDN-sent-automatically; processed"
# The ANS volet asks for the original as message/rfc822; past this size only its headers
# go back, so a 20 MB request does not travel twice.
ORIGINAL_MAX_BYTES = 2_000_000
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"[\r\n]+")


@dataclass(frozen=True)
class Disposition:
    """What the MDN is about: the original mail and who it reached."""

    to: str  # the Disposition-Notification-To address
    final_recipient: str  # our mailbox that received the original
    original_message_id: str | None
    original_subject: str
    original_references: tuple[str, ...]
    original: bytes  # the original mail, as received


def _field(value: str) -> str:
    return _FOLD.sub(" ", value).strip()


def _notification(domain: str, disposition: Disposition) -> MIMEBase:
    lines = [
        f"Reporting-UA: {_field(domain)}; Aiguilleur",
        f"Final-Recipient: rfc822; {_field(disposition.final_recipient)}",
    ]
    if disposition.original_message_id:
        lines.append(f"Original-Message-ID: {_field(disposition.original_message_id)}")
    lines.append(f"Disposition: {DISPOSITION}")
    part = MIMEBase("message", "disposition-notification")
    del part["MIME-Version"]
    part.set_payload("\r\n".join(lines) + "\r\n")
    part["Content-Transfer-Encoding"] = "7bit"
    return part


def _returned(original: bytes, boundary: str) -> Message:
    """The original as message/rfc822, else its header block as text/rfc822-headers."""
    if len(original) <= ORIGINAL_MAX_BYTES:
        forwarded = _forwarded_mail(original, "original.eml", boundary)
        if forwarded is not None:
            del forwarded["Content-Disposition"]  # part of the report, not a file
            return forwarded
    found = _HEADER_END.search(original[:262_144])
    block = original[: found.start()] if found else original[:262_144]
    part = MIMEBase("text", "rfc822-headers")
    del part["MIME-Version"]
    text = block.decode("ascii", "surrogateescape")
    part.set_payload(text + "\r\n")
    part["Content-Transfer-Encoding"] = "7bit" if block.isascii() else "8bit"
    return part


def compose_mdn(
    renderer: ReplyRenderer,
    facts: ReplyFacts,
    disposition: Disposition,
    *,
    cause_key: str,
    date: datetime,
) -> ComposedReply:
    """The MDN as sent: deterministic Message-ID, ``Auto-Submitted: auto-replied``, and no
    Disposition-Notification-To of its own (an MDN never asks for one)."""
    assert facts.kind == ReplyKind.MDN
    message_id = renderer.message_id_for(cause_key)
    boundary = "=_aig_" + message_id[5:29]
    subject = subject_for(facts, disposition.original_subject)
    text = text_part(renderer.text(facts))
    del text["MIME-Version"]
    msg = MIMEMultipart(
        "report",
        boundary=boundary,
        _subparts=[
            text,
            _notification(renderer.domain, disposition),
            _returned(disposition.original, boundary),
        ],
        report_type="disposition-notification",
    )
    msg["From"] = renderer.from_header
    msg["To"] = disposition.to
    msg["Subject"] = _header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    original = disposition.original_message_id
    if original:
        msg["In-Reply-To"] = original
        chain = [*disposition.original_references[-10:], original]
        msg["References"] = " ".join(dict.fromkeys(chain))
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    if facts.reference:
        msg["X-Aiguilleur-Reference"] = facts.reference
    return ComposedReply(message_id=message_id, subject=subject, raw=_wire(msg))
