"""``parse_message``: raw mail bytes -> envelope, report kind, Request, body text. Never raises."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel

from parsers.body_text import body_extraction, html_to_text
from parsers.documents import (
    PARSED_TYPES,
    SNIFF_BYTES,
    document_extractions,
    sniff_document,
    unparsed_kind,
)
from parsers.dsn import DeliveryReport, read_delivery_report
from parsers.envelope import (
    Envelope,
    clean_envelope,
    envelope_from_raw,
    find_case_reference,
    read_envelope,
)
from parsers.fields import Candidate, Extraction
from parsers.kind import find_status_query, kind_from_text
from parsers.limits import ParseLimits
from parsers.mapping import map_raw_fields
from parsers.merge import apply_requirements, dedupe_problems, merge_extractions
from parsers.mime_body import HEAD_BYTES
from parsers.mime_walk import (
    MimeAttachment,
    MimeContent,
    split_mime,
    walk_message,
    without_bom,
)
from parsers.normalise.ins import check_ins
from parsers.problems import problem
from parsers.prose import SUBJECT, WRITER_HINT, prose_candidates
from parsers.prose.writer import is_personal_address
from parsers.request import Attachment, Provenance, Request, RequestKind

__all__ = ["ParseLimits", "ParsedMessage", "assemble_request", "parse_document", "parse_message"]

assert HEAD_BYTES >= SNIFF_BYTES  # an attachment's kept head holds all that sniffing reads

ReportKind = Literal["dsn", "mdn"]


class ParsedMessage(BaseModel):
    envelope: Envelope
    report_kind: ReportKind | None = None  # DSN/MDN are not requests
    delivery_report: DeliveryReport | None = None  # what a DSN says, when it could be read
    request: Request
    body_text: str = ""  # for the daemon's own use; never logged


def _title_kind(extraction: Extraction, request_kinds: list[Extraction]) -> None:
    for line in extraction.title_lines:
        kind = kind_from_text(line)
        if kind is not None:
            holder = Extraction(source=extraction.source, kind=extraction.kind)
            holder.add("kind", kind, "titre", line[:200])
            request_kinds.append(holder)
            return


def assemble_request(
    extractions: list[Extraction],
    *,
    subject: str = "",
    default_kind: RequestKind | None = None,
    header_extraction: Extraction | None = None,
) -> Request:
    """Map, merge, resolve the kind and check the programme's required fields."""
    request = Request()
    kinds: list[Extraction] = []
    hints: list[Candidate] = []
    for extraction in extractions:
        map_raw_fields(extraction)
        prose_candidates(extraction)
        hints.extend(c for c in extraction.candidates if c.path == WRITER_HINT)
        extraction.candidates = [c for c in extraction.candidates if c.path != WRITER_HINT]
        if extraction.kind != "body":
            _title_kind(extraction, kinds)
    body = [e for e in extractions if e.kind == "body"]
    for extraction in body:
        _title_kind(extraction, kinds)
    headers = header_extraction or Extraction(source="headers", kind="header")
    if subject and (kind := kind_from_text(subject)) is not None:
        headers.add("kind", kind, "Subject", subject[:200])
    merge_extractions(request, [*extractions, *kinds, headers])
    status_reference = find_status_query(subject) or next(
        (ref for e in body if (ref := find_status_query(e.text[:500]))), None
    )
    if status_reference is not None:
        request.kind = RequestKind.STATUS_QUERY
        request.reference = status_reference
        request.provenance["kind"] = Provenance(
            source="headers", kind="header", locator="STATUT", raw=status_reference
        )
    elif "kind" not in request.provenance:
        if default_kind is not None:
            request.kind = default_kind
            request.provenance["kind"] = Provenance(
                source="mailbox", kind="config", locator="programme de la boîte aux lettres"
            )
        else:
            request.problems.append(problem("kind.unknown", field="kind"))
    # A weak cue ("fille de la patiente") decides only from a consumer mailbox.
    if (
        hints
        and request.reporter.declared_role is None
        and is_personal_address(request.reporter.email)
    ):
        request.reporter.declared_role = hints[0].value  # type: ignore[assignment]
        request.provenance["reporter.declared_role"] = hints[0].provenance
    _infer_professional(request)
    patient = request.patient
    if patient.family_name is None and patient.birth_name:
        # Only the birth name is given: it is the name in use too.
        patient.family_name = patient.birth_name
        if "patient.birth_name" in request.provenance:
            request.provenance["patient.family_name"] = request.provenance["patient.birth_name"]
    if patient.ins is not None and patient.ins_kind is None:
        patient.ins_kind = "unqualified"
    apply_requirements(request)
    request.problems = dedupe_problems(request.problems)
    return request


def _infer_professional(request: Request) -> None:
    """No role stated, but a profession, an RPPS or a professional MSSanté address: a pro."""
    reporter = request.reporter
    if reporter.declared_role is not None:
        return
    email = (reporter.email or "").lower()
    domain = email.rsplit("@", 1)[1] if "@" in email else ""
    mssante = domain.endswith("mssante.fr") and not domain.endswith("patient.mssante.fr")
    if reporter.profession_code or reporter.rpps or mssante:
        reporter.declared_role = "professional"
        request.provenance["reporter.declared_role"] = Provenance(
            source="headers",
            kind="header",
            locator="déduit de la profession, du RPPS ou de la messagerie MSSanté",
        )


def _attachment_record(
    name: str, content_type: str, sha256: str, size: int, kind: str
) -> Attachment:
    return Attachment(filename=name, content_type=content_type, size=size, sha256=sha256, kind=kind)


def _attachment_kind(
    attachment: MimeAttachment,
    limits: ParseLimits,
    parse: bool,
    extractions: list[Extraction],
) -> str:
    """Sniff from the first bytes; decode the whole content only for a parsed type."""
    name, content_type = attachment.filename, attachment.content_type
    doc_type = sniff_document(name, attachment.head, content_type)
    if doc_type not in PARSED_TYPES:
        return unparsed_kind(doc_type)
    if not parse:
        return {"xml": "cda", "zip": "xdm"}.get(doc_type, doc_type)
    found, kind = document_extractions(
        name, attachment.load(), limits, content_type, report_unsupported=False
    )
    extractions.extend(found)
    return kind


def _body_text(content: MimeContent) -> str:
    plain = "\n\n".join(t for t in content.plain if t.strip())
    text = plain if plain.strip() else "\n\n".join(html_to_text(h) for h in content.html)
    if content.forwarded_text:
        text = (
            "\n\n".join([text, *content.forwarded_text])
            if text
            else "\n\n".join(content.forwarded_text)
        )
    return text


def _parse(raw: bytes, limits: ParseLimits, default_kind: RequestKind | None) -> ParsedMessage:
    if len(raw) > limits.max_message_bytes:
        envelope = envelope_from_raw(raw, limits)
        request = Request()
        request.problems.append(problem("message.too_large", limit=limits.max_message_bytes))
        return ParsedMessage(envelope=envelope, report_kind=None, request=request)
    message = split_mime(without_bom(raw), limits)
    envelope = clean_envelope(read_envelope(message.headers))
    content = walk_message(message, limits)
    body_text = _body_text(content)
    report_kind = content.report_kind
    if report_kind is None and envelope.report_type in (
        "delivery-status",
        "disposition-notification",
    ):
        report_kind = "dsn" if envelope.report_type == "delivery-status" else "mdn"
    extractions: list[Extraction] = []
    records: list[Attachment] = []
    if report_kind is None:
        extractions.append(
            body_extraction(
                body_text, max_chars=limits.text_max_chars, max_lines=limits.text_max_lines
            )
        )
    for attachment in content.attachments:
        kind = "other"
        if attachment.readable:
            kind = _attachment_kind(attachment, limits, report_kind is None, extractions)
        if attachment.content_type.startswith("image/"):
            kind = "image"
        records.append(
            _attachment_record(
                attachment.filename,
                attachment.content_type,
                attachment.sha256,
                attachment.size,
                kind,
            )
        )
    if report_kind is not None:
        request = Request()
    else:
        headers = Extraction(source="headers", kind="header")
        if envelope.from_addr:
            headers.add("reporter.email", envelope.from_addr, "From", envelope.from_addr)
            local, _, domain = envelope.from_addr.lower().partition("@")
            ins, status = check_ins(local) if domain == "patient.mssante.fr" else ("", "")
            if status == "ok":
                # A patient's MSSanté address is built on their INS.
                headers.add("patient.ins", ins, "From", envelope.from_addr)
        if envelope.date is not None:
            headers.add("request_date", envelope.date.date(), "Date")
        if reference := find_case_reference(envelope.subject):
            headers.add("reference", reference, "Subject", envelope.subject[:200])
        if envelope.subject.strip():
            # "Signalement : M. GEORGEL Florian - 15-03-72 - 88640 Granges-Aumontzey"
            extractions.append(Extraction(source=SUBJECT, kind="header", text=envelope.subject))
        if not find_case_reference(envelope.subject) and (
            reference := find_case_reference(body_text[:5000])
        ):
            body_reference = Extraction(source="body", kind="body")
            body_reference.add("reference", reference, "corps du message")
            extractions.append(body_reference)
        request = assemble_request(
            extractions,
            subject=envelope.subject,
            default_kind=default_kind,
            header_extraction=headers,
        )
    request.attachments = records
    request.problems = dedupe_problems([*content.problems, *request.problems])
    return ParsedMessage(
        envelope=envelope,
        report_kind=report_kind,
        delivery_report=read_delivery_report(message, limits) if report_kind == "dsn" else None,
        request=request,
        body_text=body_text,
    )


def parse_message(
    raw: bytes, *, limits: ParseLimits | None = None, default_kind: RequestKind | None = None
) -> ParsedMessage:
    """Parse one message; any failure becomes a problem, never an exception."""
    limits = limits or ParseLimits()
    try:
        return _parse(raw, limits, default_kind)
    except MemoryError:  # the worker's memory ceiling (RLIMIT_AS): the stack is freed now
        code = "parse.memory_exceeded"
    except Exception:  # last line of defence: the daemon must keep going
        code = "parse.internal_error"
    envelope = envelope_from_raw(raw, limits)
    request = Request(problems=[problem(code)])
    return ParsedMessage(envelope=envelope, report_kind=None, request=request)


def parse_document(filename: str, data: bytes, *, limits: ParseLimits | None = None) -> Request:
    """Parse one file (.eml, .docx, .pdf, .xml, .zip) as the CLI does; never raises."""
    limits = limits or ParseLimits()
    try:
        if sniff_document(filename, data) == "eml":
            return parse_message(data, limits=limits).request
        extractions, kind = document_extractions(filename, data, limits)
        request = assemble_request(extractions)
        digest = hashlib.sha256(data).hexdigest()
        request.attachments = [_attachment_record(filename, "", digest, len(data), kind)]
        return request
    except MemoryError:
        return Request(problems=[problem("parse.memory_exceeded", source=filename)])
    except Exception:
        return Request(problems=[problem("parse.internal_error", source=filename)])
