"""Sample requests for the embedded demo: what professionals really send.

Their words are data (``demo_data.toml``, read by ``gateway.cli.demo_data``); this module
builds the mails, and the Word form one of them carries.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from docx import Document

from gateway.cli.demo_data import demo_data

__all__ = ["Sample", "demo_samples", "signalement_docx"]


@dataclass(frozen=True)
class Sample:
    name: str
    raw: bytes
    expect: str  # what the demo should do with it, shown in the summary


def signalement_docx(fields: Sequence[tuple[str, str]]) -> bytes:
    """A CPTS signalement form as a Word document: a two-column label/value table."""
    form = demo_data()["form"]
    doc = Document()
    doc.add_heading(form["heading"], level=1)
    doc.add_paragraph(form["subtitle"])
    table = doc.add_table(rows=0, cols=2)
    for label, value in fields:
        row = table.add_row().cells
        row[0].text = label
        row[1].text = value
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _mail(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    when: datetime,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg


def _sample(entry: Mapping[str, Any], addresses: Mapping[str, str], when: datetime) -> Sample:
    msg = _mail(
        sender=entry["sender"],
        to=addresses[entry["programme"]],
        subject=entry["subject"],
        body=entry["body"],
        when=when,
        headers=entry.get("headers"),
    )
    form = entry.get("form")
    if form is not None:
        msg.add_attachment(
            signalement_docx([(label, value) for label, value in form["fields"]]),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
            filename=form["filename"],
        )
    return Sample(entry["name"], bytes(msg), entry["expect"])


def demo_samples(addresses: dict[str, str], now: datetime | None = None) -> list[Sample]:
    """``addresses`` maps programme → the structure's address for it."""
    when = now or datetime.now(UTC)
    return [_sample(entry, addresses, when) for entry in demo_data()["mail"]]
