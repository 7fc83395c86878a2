"""Compose a reply: French text from a template, the FHIR Task as JSON, threading headers."""

from __future__ import annotations

import binascii
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email._policybase import Compat32
from email.encoders import encode_base64
from email.generator import Generator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, formataddr
from functools import cache
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
    "structure_names",
    "subject_for",
    "text_part",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
PARIS = ZoneInfo("Europe/Paris")

# Printable ASCII words separated by single spaces: what compat32 writes back unchanged when
# the line fits, without building a Header object for it.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")


class _EncodedWords(str):
    """A header value already written as RFC 2047 encoded words, separated by spaces: folded
    one word a line."""


# An encoded word is at most 75 characters (RFC 2047): "=?utf-8?b?" and "?=" around the
# base64 of 42 bytes make 68, so "Subject: " and the first one fit a 78-character line.
_WORD_BYTES = 42


def _encoded_words(text: str) -> _EncodedWords:
    """``text`` as base64 encoded words of whole UTF-8 characters. ``email.header.Header``
    writes the same, but measures the line again at each character it adds (about 110 µs
    for a subject, against 2)."""
    data = text.encode("utf-8")
    words: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        encoded = binascii.b2a_base64(data[start:end], newline=False).decode("ascii")
        words.append(f"=?utf-8?b?{encoded}?=")
        start = end
    return _EncodedWords(" ".join(words))


class _WirePolicy(Compat32):
    """compat32 with a shortcut for the short plain headers that make most of a mail (folding
    each through ``email.header.Header`` was a third of the cost of composing a reply)."""

    def fold(self, name: str, value: str | Header) -> str:
        if isinstance(value, _EncodedWords):
            return f"{name}: " + f"{self.linesep} ".join(value.split(" ")) + self.linesep
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and _PLAIN.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)  # type: ignore[arg-type]


# The legacy (compat32) email API: the same RFC 2045/2047 output for what we write, several
# times faster than the EmailMessage API, whose header registry re-parses every header set.
_WIRE = _WirePolicy(linesep="\r\n")


def text_part(text: str) -> MIMEBase:
    """The text as a UTF-8 text/plain part in quoted-printable, so French stays readable in
    the raw mail: encoded by ``binascii`` in C (the ``email`` package's own encoder walks the
    text a character at a time in Python, four times slower)."""
    part = MIMEBase("text", "plain")
    del part["Content-Type"]  # written again after MIME-Version, as ``set_charset`` does
    part["Content-Type"] = 'text/plain; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


def _header(value: str) -> str:
    return value if value.isascii() else _encoded_words(value)


def _attachment(data: bytes, content_type: str, filename: str) -> MIMEBase:
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    del part["MIME-Version"]
    part.set_payload(data)
    encode_base64(part)
    _disposition(part, filename)
    return part


def _disposition(part: MIMEBase, filename: str) -> None:
    name: str | tuple[str, str, str] = filename if filename.isascii() else ("utf-8", "", filename)
    part.add_header("Content-Disposition", "attachment", filename=name)


# RFC 5322: a line is at most 998 octets without its CRLF.
_MAX_LINE = 998


def _forwarded_mail(data: bytes, filename: str, boundary: str) -> MIMEBase | None:
    """A mail attached as message/rfc822, its bytes as received (lines ending in CRLF).

    RFC 2046 forbids base64 or quoted-printable on message/rfc822, so the bytes travel
    as they are: "7bit", or "8bit" when they hold 8-bit bytes (the SMTP transport then
    asks for 8BITMIME). None when a line is too long for SMTP, or when the mail holds the
    enclosing boundary: then it goes as a file.
    """
    lines = data.splitlines()
    if not lines or any(len(line) > _MAX_LINE for line in lines) or boundary.encode() in data:
        return None
    part = MIMEBase("message", "rfc822")
    del part["MIME-Version"]
    # Kept as text, undecodable bytes as surrogates: the generator writes the payload of a
    # message/rfc822 part as it is, and ``_wire`` turns the surrogates back into the bytes.
    part.set_payload((b"\r\n".join(lines) + b"\r\n").decode("ascii", "surrogateescape"))
    part["Content-Transfer-Encoding"] = "7bit" if data.isascii() else "8bit"
    _disposition(part, filename)
    return part


def _wire(msg: Message) -> bytes:
    """The mail as SMTP sends it: CRLF, and a forwarded mail's 8-bit bytes as received."""
    out = io.StringIO()
    Generator(out, mangle_from_=False, policy=_WIRE).flatten(msg)
    return out.getvalue().encode("ascii", "surrogateescape")


def deterministic_message_id(cause_key: str, domain: str) -> str:
    """Same cause, same Message-ID: a re-sent copy after a crash is recognisably the same mail."""
    digest = hashlib.sha256(cause_key.encode()).hexdigest()[:32]
    return f"<aig.{digest}@{domain}>"


def local_datetime_fr(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime(wording.say("reply.datetime_format"))


@cache
def structure_names(name: str) -> tuple[str, str, str]:
    """The structure's name as a sentence uses it, with its article (``structure.*``):
    mid-sentence ("la CPTS de démonstration"), at its start ("La CPTS …") and after "de"
    ("de la CPTS …", "du DAC …"). The article follows the name's first word; a name that
    starts with an article keeps it; a first word the catalogue does not list (a proper
    name) takes none."""
    name = " ".join(name.split())
    first = name.split(" ", 1)[0].casefold() if name else ""
    gender, rest = "none", name
    for article, kind in wording.labels("structure.article").items():
        elided = article.endswith(("'", "\u2019"))  # l', l’
        if elided and first.startswith(article) and len(first) > len(article):
            gender, rest = kind, name[len(article) :]
            break
        if first == article and " " in name:
            gender, rest = kind, name.split(" ", 1)[1]
            break
    else:
        gender = wording.label("structure.gender", first, default="none")
    the = wording.say(f"structure.the.{gender}", name=rest)
    of = wording.say(f"structure.of.{gender}", name=rest)
    return the, the[:1].upper() + the[1:], of


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
            auto_reload=False,  # packaged templates: no stat() of the file at every mail
        )
        self._from = formataddr((from_name, from_address), charset="utf-8")
        self._domain = from_address.rsplit("@", 1)[1]
        self._limit_mb = max(1, limit_bytes // 1_000_000)

    def message_id_for(self, cause_key: str) -> str:
        return deterministic_message_id(cause_key, self._domain)

    @property
    def from_header(self) -> str:
        """The From of every mail we write (the structure's name and sending address)."""
        return self._from

    @property
    def domain(self) -> str:
        return self._domain

    def text(self, facts: ReplyFacts) -> str:
        template = self._env.get_template(f"{facts.kind.value}.txt.j2")
        the, start, of = structure_names(facts.structure_name)
        return template.render(
            facts=facts,
            structure=the,  # "la CPTS …", inside a sentence
            Structure=start,  # "La CPTS …", at its start
            of_structure=of,  # "de la CPTS …", "du DAC …"
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
        # Fixed here, or the generator would compile a regex per mail to pick one. "=_" can
        # occur neither in base64 nor in quoted-printable text, so no part we encode holds
        # it, and a forwarded mail that does goes as a file.
        boundary = "=_aig_" + message_id[5:29]
        subject = subject_for(facts, original_subject)
        body = text_part(self.text(facts))
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
            content_type = item.content_type.lower()
            if content_type == "message/rfc822":
                # A forwarded original: an embedded mail the reader opens as one.
                forwarded = _forwarded_mail(item.data, item.filename, boundary)
                if forwarded is not None:
                    parts.append(forwarded)
                    continue
            if content_type.startswith("message/") or "/" not in content_type:
                # Carried as a file: the bytes stay as received.
                content_type = "application/octet-stream"
            parts.append(_attachment(item.data, content_type, item.filename))
        msg: Message = body
        if parts:
            del body["MIME-Version"]
            msg = MIMEMultipart("mixed", boundary=boundary, _subparts=[body, *parts])
        msg["From"] = self._from
        msg["To"] = to_addr
        msg["Subject"] = _header(subject)
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
        return ComposedReply(message_id=message_id, subject=subject, raw=_wire(msg))
