"""Delivery status notifications (RFC 3464): what happened to which mail, as typed data.

A DSN is a ``multipart/report; report-type=delivery-status`` with a human text, a
``message/delivery-status`` part (one block of per-message fields, then one block per
recipient) and the returned mail or its headers (``message/rfc822``,
``text/rfc822-headers``). ``read_delivery_report`` reads the fields and the returned
mail's Message-ID from the tree ``mime_split`` built; it never raises. Which outbound
mail it speaks of, and what to do about it, is the daemon's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Literal

from pydantic import BaseModel, Field

from parsers.limits import ParseLimits
from parsers.mime_body import payload_bytes
from parsers.mime_split import MimePart
from parsers.mime_walk import _decode_embedded, clean_str, parse_bytes, split_mime

__all__ = ["DeliveryReport", "DsnAction", "DsnRecipient", "read_delivery_report"]

DsnAction = Literal["failed", "delayed", "delivered", "relayed", "expanded"]
_ACTIONS: frozenset[str] = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MSGID = re.compile(r"<[^<>\s]{3,250}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MAX_RECIPIENTS = 50  # a DSN for our one-recipient mails lists one; more is noise or hostile
_MAX_MENTIONED = 10
_MAX_FIELD = 500  # Diagnostic-Code and the like: enough for an SMTP reply line
_MAX_TEXT = 100_000  # of the human part, scanned for Message-IDs
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_MAIL = ("message/rfc822", "message/global")
_RETURNED_HEADERS = ("text/rfc822-headers", "message/global-headers")


class DsnRecipient(BaseModel):
    """One per-recipient block of a DSN."""

    action: DsnAction | None = None  # None: absent or not an RFC 3464 action
    status: str | None = None  # "5.1.1": the status code only, comment dropped
    final_recipient: str | None = None  # the address, without its "rfc822;" type
    original_recipient: str | None = None
    diagnostic: str | None = None  # Diagnostic-Code, on one line, trimmed
    remote_mta: str | None = None


class DeliveryReport(BaseModel):
    """A DSN as read: the per-message fields, the recipients and the returned mail's ids."""

    reporting_mta: str | None = None
    original_envelope_id: str | None = None
    # The Message-ID of the returned mail (its headers, in the report's third part).
    original_message_id: str | None = None
    # Fallbacks, most trusted first: X-Original-Message-ID-like fields of the report, then
    # "<…>" ids the human text quotes (some MTAs paste the returned headers there).
    mentioned_ids: list[str] = Field(default_factory=list)
    recipients: list[DsnRecipient] = Field(default_factory=list)

    @property
    def message_ids(self) -> list[str]:
        """Every id this report may speak of, most trusted first, without repeats."""
        found = [self.original_message_id, *self.mentioned_ids]
        return list(dict.fromkeys(i for i in found if i))

    @property
    def action(self) -> Literal["failed", "delayed"] | None:
        """What the report says of delivery: failed if any recipient failed, else delayed
        if any is delayed, else None (delivered, relayed, or nothing readable)."""
        actions = {r.action for r in self.recipients}
        if "failed" in actions:
            return "failed"
        if "delayed" in actions:
            return "delayed"
        return None

    def recipient_for(self, address: str | None) -> DsnRecipient | None:
        """The block about ``address`` with the report's action, else the first with it."""
        action = self.action
        if action is None:
            return None
        matching = [r for r in self.recipients if r.action == action]
        wanted = (address or "").lower()
        for recipient in matching:
            if wanted and wanted in (recipient.final_recipient, recipient.original_recipient):
                return recipient
        return matching[0]


def _one_line(value: object, limit: int = _MAX_FIELD) -> str | None:
    text = _CONTROL.sub(" ", clean_str(str(value)))
    text = " ".join(text.split())[:limit]
    return text or None


def _field(headers: EmailMessage, name: str) -> str | None:
    try:
        value = headers.get(name)
    except Exception:  # a malformed field reads as absent
        return None
    return None if value is None else _one_line(value)


def _address(value: str | None) -> str | None:
    """``rfc822; someone@example.org`` → ``someone@example.org``."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    address = (rest if sep else kind).strip().strip("<>").strip().lower()
    return address[:320] or None


def _status(value: str | None) -> str | None:
    found = _STATUS.search(value or "")
    return ".".join(found.groups()) if found else None


def _action(value: str | None, status: str | None) -> DsnAction | None:
    word = (value or "").split("(")[0].strip().lower()
    if word in _ACTIONS:
        return word  # type: ignore[return-value]
    if value is None and status is not None:
        # No Action field (a broken MTA): the status class says it.
        return {"5": "failed", "4": "delayed"}.get(status[0])  # type: ignore[return-value]
    return None


def _blocks(part: MimePart) -> Iterator[EmailMessage]:
    """The field blocks of a delivery-status part, in order."""
    if part.children is None:
        # A leaf (a type the splitter does not split): split it here.
        yield from _split_blocks(payload_bytes(part) or b"")
        return
    for child in part.children:
        yield child.headers
        if child.children is None and child.spans:
            # The splitter kept what followed the first block as its body.
            yield from _split_blocks(child.raw_bytes())


def _split_blocks(data: bytes) -> Iterator[EmailMessage]:
    for chunk in re.split(rb"(?:\r?\n){2,}", data[:_MAX_TEXT]):
        if chunk.strip():
            yield parse_bytes(chunk.strip() + b"\n")


def _returned_message_id(part: MimePart, limits: ParseLimits) -> str | None:
    ctype = part.ctype.lower()
    headers: EmailMessage | None = None
    if ctype in _RETURNED_MAIL and part.children:
        inner = part.children[0]
        headers = inner.headers
        encoding = str(part.headers.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in ("base64", "quoted-printable") and not inner.is_multipart():
            decoded = _decode_embedded(inner, encoding)
            if decoded:
                headers = split_mime(bytes(decoded), limits).headers
    elif ctype in _RETURNED_HEADERS:
        headers = parse_bytes((payload_bytes(part) or b"")[: limits.max_header_bytes], limits)
    if headers is None:
        return None
    found = _MSGID.search(_field(headers, "Message-ID") or "")
    return found.group(0) if found else None


def _report_part(message: MimePart, depth: int = 0) -> MimePart | None:
    """The delivery-status report: the message itself, or a part of a wrapping multipart
    (never inside an attached mail, which would be someone else's report)."""
    if message.ctype == "multipart/report":
        try:
            kind = str(message.headers.get_param("report-type") or "").lower()
        except Exception:
            kind = ""
        if kind == "delivery-status":
            return message
    if depth >= 3 or not message.ctype.startswith("multipart/"):
        return None
    for child in message.children or []:
        found = _report_part(child, depth + 1)
        if found is not None:
            return found
    return None


def _text_ids(part: MimePart) -> list[str]:
    data = (payload_bytes(part) or b"")[:_MAX_TEXT]
    return _MSGID.findall(data.decode("ascii", "replace"))


def _read(message: MimePart, limits: ParseLimits) -> DeliveryReport | None:
    report = _report_part(message)
    if report is None:
        return None
    result = DeliveryReport()
    quoted: list[str] = []
    for part in (report.children or [])[: limits.max_mime_parts]:
        ctype = part.ctype.lower()
        if ctype in _STATUS_TYPES:
            _read_status(part, result)
        elif ctype in _RETURNED_MAIL or ctype in _RETURNED_HEADERS:
            result.original_message_id = result.original_message_id or _returned_message_id(
                part, limits
            )
        elif ctype == "text/plain":
            quoted.extend(_text_ids(part))
    result.mentioned_ids = list(dict.fromkeys([*result.mentioned_ids, *quoted]))[:_MAX_MENTIONED]
    return result


def _read_status(part: MimePart, result: DeliveryReport) -> None:
    for index, block in enumerate(_blocks(part)):
        if index == 0 and _field(block, "Final-Recipient") is None:
            result.reporting_mta = _field(block, "Reporting-MTA")
            result.original_envelope_id = _field(block, "Original-Envelope-Id")
            for name in ("X-Original-Message-ID", "Original-Message-ID"):
                found = _MSGID.search(_field(block, name) or "")
                if found:
                    result.mentioned_ids.append(found.group(0))
            continue
        if len(result.recipients) >= _MAX_RECIPIENTS:
            break
        status = _status(_field(block, "Status"))
        result.recipients.append(
            DsnRecipient(
                action=_action(_field(block, "Action"), status),
                status=status,
                final_recipient=_address(_field(block, "Final-Recipient")),
                original_recipient=_address(_field(block, "Original-Recipient")),
                diagnostic=_field(block, "Diagnostic-Code"),
                remote_mta=_field(block, "Remote-MTA"),
            )
        )


def read_delivery_report(
    message: MimePart, limits: ParseLimits | None = None
) -> DeliveryReport | None:
    """The DSN in ``message`` (the tree of the whole mail), or None when there is none or
    it cannot be read. Never raises."""
    try:
        return _read(message, limits or ParseLimits())
    except Exception:  # hostile input: no report, never an exception
        return None
