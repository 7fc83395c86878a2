"""`aiguilleur parse FILE`: print what the parsers read from one file, as JSON.

`aiguilleur parse --inbound ID` parses a stored message instead (a quarantined one, say),
its bytes read from the configuration's database, which is never written.

The file's type is read from its first bytes, never from its name, so a Maildir file
(``1700000000.M1P2.host:2,S``) or an attachment saved without extension parses too:

- ``PK\\x03\\x04`` (or an empty or spanned ZIP's ``PK``): a ZIP, read as a DOCX form when
  it holds ``word/document.xml``, else as an IHE_XDM archive;
- ``%PDF``: a PDF form;
- ``<?xml`` or ``<ClinicalDocument`` (after an optional BOM and blank space, UTF-8 or
  UTF-16): a CDA R2 document;
- else a mail (RFC 5322) when it opens with header lines (``Name: value``, after
  optional blank space and mbox ``From`` line) that include one a message has (From,
  To, Subject, Date, Message-ID, Received, MIME-Version…).

Anything else is refused with exit code 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from gateway.cli.audience import Audience, print_error
from gateway.config import PipelineConfig
from gateway.pipeline.parse_budget import parse_within
from gateway.pipeline.parse_pool import failed_parse
from gateway.wording import say
from parsers import ParseLimits, parse_document, parse_message
from parsers.documents import sniff_document
from parsers.problems import problem
from parsers.request import Request

__all__ = ["FileType", "parse_command", "parse_stored_command", "sniff_file"]

FileType = Literal["zip", "pdf", "xml", "mail"]

SNIFF_BYTES = 4096
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_XML_START = re.compile(r"<(?:\?xml\b|(?:[A-Za-z_][\w.-]*:)?ClinicalDocument\b)")
# RFC 5322 §2.2: a field name is printable US-ASCII except ":", then ":".
_HEADER_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
# Fields every mail has one of (RFC 5322 §3.6, RFC 2045); "Nom: X" alone is not a mail.
_MAIL_FIELDS = frozenset(
    {
        b"from",
        b"sender",
        b"reply-to",
        b"to",
        b"cc",
        b"bcc",
        b"subject",
        b"date",
        b"message-id",
        b"in-reply-to",
        b"references",
        b"received",
        b"return-path",
        b"delivered-to",
        b"mime-version",
        b"content-type",
    }
)


def _xml_text(head: bytes) -> str:
    """The start of the file as text, for the XML test (UTF-16 when it has a BOM)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _looks_like_mail(head: bytes) -> bool:
    """Header lines first (after an optional BOM, blank space and mbox ``From`` line),
    one of them a field a mail has. Real mail is untidy: the header block ends at the
    first line that is not a field, blank or not."""
    lines = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").split(b"\n")
    if lines[0].startswith(b"From "):  # mbox separator
        lines = lines[1:]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sniff window
    names: set[bytes] = set()
    for line in lines:
        if line[:1] in (b" ", b"\t") and names:
            continue  # a folded field's continuation
        if not _HEADER_FIELD.match(line):
            break
        names.add(line.split(b":", 1)[0].lower())
    return bool(names & _MAIL_FIELDS)


def sniff_file(data: bytes) -> FileType | None:
    """The file's type from its content; None when it is none we parse."""
    head = data[:SNIFF_BYTES]
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if _XML_START.match(_xml_text(head).lstrip("\ufeff \t\r\n")):
        return "xml"
    if _looks_like_mail(head):
        return "mail"
    return None


def parse_command(path: Path, *, limits: ParseLimits | None = None) -> int:
    """Print the Request (and report_kind) with provenance and problems.

    Returns 0 when the file was parsed (even with problems), 2 when it cannot be
    read or is of an unknown type; the error is one French line on stderr.
    """
    limits = limits or ParseLimits()
    try:
        size = path.stat().st_size
        if size > limits.max_message_bytes:
            too_large = say("cli.error.too_large", path=path, limit=limits.max_message_bytes)
            print_error(Audience.COORDINATOR, too_large)
            return 2
        data = path.read_bytes()
    except OSError as error:
        unread = say("cli.error.cannot_read", path=path, reason=error.strerror or error)
        print_error(Audience.COORDINATOR, unread)
        return 2
    return _parse_bytes(data, path, limits)


def parse_stored_command(
    config_path: Path, inbound_id: int, *, limits: ParseLimits | None = None
) -> int:
    """As ``parse_command``, for the bytes of stored message ``inbound_id``."""
    # Here, not at the top: `parse FILE` needs neither the database nor the case code.
    from gateway.cli.commands.check import read_database
    from gateway.storage import repo

    found = read_database(
        config_path,
        lambda session: (repo.inbound_raw(session, inbound_id),),  # (None,): no such message
        "cli.error.nothing_to_read",
    )
    if found is None:
        return 2
    (data,) = found
    if not data:  # none stored, or emptied by the retention policy
        key = "cli.error.no_such_message" if data is None else "cli.error.message_purged"
        print_error(Audience.COORDINATOR, say(key, id=inbound_id))
        return 2
    return _parse_bytes(data, Path(f"message-{inbound_id}"), limits or ParseLimits())


def _parse_bytes(data: bytes, path: Path, limits: ParseLimits) -> int:
    kind = sniff_file(data)
    if kind is None:
        print_error(Audience.COORDINATOR, say("cli.error.unsupported_file", name=path.name))
        return 2
    # The daemon's budgets: a hostile file must not hang this command nor take the host.
    budget = PipelineConfig()
    seconds, memory_mb = budget.parse_timeout, budget.parse_memory_mb
    if kind == "mail":
        parsed = parse_within(
            lambda: parse_message(data, limits=limits),
            lambda code: failed_parse(data, limits, code),
            seconds=seconds,
            memory_mb=memory_mb,
        )
        output = {
            "report_kind": parsed.report_kind,
            "envelope": parsed.envelope.model_dump(mode="json"),
            "request": parsed.request.model_dump(mode="json"),
        }
    else:
        # The parsers tell a DOCX from an IHE_XDM ZIP by its entries, PDF and XML by content,
        # but take a name ending in .eml for a mail before looking for XML.
        name = path.name
        if kind == "xml" and sniff_document(name, data) != "xml":
            name = f"{path.stem}.xml"
        request = parse_within(
            lambda: parse_document(name, data, limits=limits),
            lambda code: Request(problems=[problem(code)]),
            seconds=seconds,
            memory_mb=memory_mb,
        )
        output = {"report_kind": None, "request": request.model_dump(mode="json")}
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0
