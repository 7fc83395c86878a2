"""Compose a reply: French text from a template, the FHIR Task as JSON, threading headers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import BASE64, QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gateway import wording
from gateway.replies.facts import ReplyFacts
from gateway.replies.fhir import task_json

__all__ = [
    "ComposedReply",
    "OutboundAttachment",
    "ReplyRenderer",
    "deterministic_message_id",
    "subject_for",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
PARIS = ZoneInfo("Europe/Paris")

# The legacy (compat32) email API: the same RFC 2045/2047 output for what we write, several
# times faster than the EmailMessage API, whose header registry re-parses every header set.
_WIRE = compat32.clone(linesep="\r\n")
_QP_UTF8 = Charset("utf-8")
_QP_UTF8.body_encoding = QP  # French text stays readable in the raw mail
_B_UTF8 = Charset("utf-8")
_B_UTF8.header_encoding = BASE64  # "shortest" would try Q too, which costs O(n²) to measure


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, _B_UTF8)


def _attachment(data: bytes, content_type: str, filename: str) -> MIMEBase:
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    del part["MIME-Version"]
    part.set_payload(data)
    encode_base64(part)
    name: str | tuple[str, str, str] = filename if filename.isascii() else ("utf-8", "", filename)
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


def deterministic_message_id(cause_key: str, domain: str) -> str:
    """Same cause, same Message-ID: a re-sent copy after a crash is recognisably the same mail."""
    digest = hashlib.sha256(cause_key.encode()).hexdigest()[:32]
    return f"<aig.{digest}@{domain}>"


def local_datetime_fr(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime(wording.say("reply.datetime_format"))


def subject_for(facts: ReplyFacts, original_subject: str) -> str:
    tag = f"[{facts.reference}] " if facts.reference else ""
    label = wording.label("subject", facts.kind.value, default=wording.say("subject.default"))
    original = " ".join(original_subject.split())[:150]
    return f"{tag}{label}" + (f" - Re: {original}" if original else "")


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str  # "maintype/subtype"
    data: bytes


@dataclass(frozen=True)
class ComposedReply:
    message_id: str
    subject: str
    raw: bytes


class ReplyRenderer:
    """Holds the template environment, built once (template compilation is not free)."""

    def __init__(self, *, from_address: str, from_name: str, limit_bytes: int) -> None:
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701  (plain-text mail, never HTML)
            keep_trailing_newline=True,
        )
        self._from = formataddr((from_name, from_address), charset="utf-8")
        self._domain = from_address.rsplit("@", 1)[1]
        self._limit_mb = max(1, limit_bytes // 1_000_000)

    def message_id_for(self, cause_key: str) -> str:
        return deterministic_message_id(cause_key, self._domain)

    def text(self, facts: ReplyFacts) -> str:
        template = self._env.get_template(f"{facts.kind.value}.txt.j2")
        return template.render(
            facts=facts,
            programme_label=facts.programme_label_fr or wording.say("reply.your_message"),
            received_fr=local_datetime_fr(facts.received_at),
            deadline_fr=local_datetime_fr(facts.deadline_at) if facts.deadline_at else "",
            limit_mb=self._limit_mb,
        )

    def compose(
        self,
        facts: ReplyFacts,
        *,
        to_addr: str,
        cause_key: str,
        original_subject: str,
        in_reply_to: str | None,
        references: list[str],
        date: datetime,
        reply_to: str | None = None,
        attachments: Sequence[OutboundAttachment] = (),
    ) -> ComposedReply:
        message_id = deterministic_message_id(cause_key, self._domain)
        subject = subject_for(facts, original_subject)
        body = MIMEBase("text", "plain")
        body.set_payload(self.text(facts), _QP_UTF8)
        parts: list[Message] = []
        if not facts.doctor_facing:
            parts.append(
                _attachment(
                    task_json(facts).encode("utf-8"),
                    "application/fhir+json",
                    "aiguilleur-task.json",
                )
            )
        for item in attachments:
            content_type = item.content_type
            if content_type.startswith("message/") or "/" not in content_type:
                # Carried as a file, not as an embedded message: the bytes stay as received.
                content_type = "application/octet-stream"
            parts.append(_attachment(item.data, content_type, item.filename))
        msg: Message = body
        if parts:
            del body["MIME-Version"]
            # Fixed here, or the generator would compile a regex per mail to pick one. "=_"
            # can occur neither in base64 nor in quoted-printable text, so no part holds it.
            boundary = "=_aig_" + message_id[5:29]
            msg = MIMEMultipart("mixed", boundary=boundary, _subparts=[body, *parts])
        msg["From"] = self._from
        msg["To"] = to_addr
        msg["Subject"] = _header(subject)  # type: ignore[assignment]  # compat32 takes a Header
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = message_id
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
            chain = (
                [*references[-10:], in_reply_to] if in_reply_to not in references else references
            )
            msg["References"] = " ".join(chain[-11:])
        if reply_to:
            # Answers (ACCEPTE, an avis, a complement) must reach the watched mailbox.
            msg["Reply-To"] = reply_to
        msg["Auto-Submitted"] = "auto-generated" if facts.doctor_facing else "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        if facts.reference:
            msg["X-Aiguilleur-Reference"] = facts.reference
        return ComposedReply(message_id=message_id, subject=subject, raw=msg.as_bytes(policy=_WIRE))
