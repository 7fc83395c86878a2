"""Everything the case page shows, read in one place: the timeline and the parsed request."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from gateway.routing.requis import with_requis_filiere
from gateway.routing.roster import RosterDoctor
from gateway.routing.strategies import STRATEGIES
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    InboundRaw,
    Offer,
    OutboundMessage,
    RuleResultRow,
)
from gateway.storage.web_models import CaseNote
from gateway.web.labels import FIELD_VALUES, detail_text, field_label, field_value, french
from gateway.wording import label, labels, say
from parsers import envelope_from_raw
from parsers import list_attachments as list_parts
from parsers.request import Conflict, Problem, Provenance, Request
from rules.evidence import rule_evidence
from rules.programmes import ProgrammeSpec

__all__ = [
    "AttachmentRef",
    "CasePage",
    "ConflictView",
    "EvidenceView",
    "FieldRow",
    "InboundView",
    "TimelineItem",
    "attachment",
    "event_label",
    "evidence_views",
    "highlight",
    "list_attachments",
    "load_case_page",
]

_SKIPPED = frozenset({"provenance", "conflicts", "problems", "attachments"})
# The French words are in gateway/wording (events.toml, status.toml, web.toml), each code
# through its enumeration's table (gateway.web.labels).
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class FieldRow:
    path: str
    value: str
    provenance: str
    conflict: Conflict | None
    label: str = ""  # the field's French name (the path stays for support, as a tooltip)


@dataclass(frozen=True)
class EvidenceView:
    """One field a rule read, as the case page shows it: the sentence split around the
    matched words, so the template highlights them without any markup from the data."""

    label: str
    value: str
    where: str
    before: str  # the sentence up to the matched words (the whole sentence if none)
    matched: str  # the matched words, "" when they are not found in the sentence
    after: str
    stray_span: str | None  # matched words that the sentence does not contain as written
    qualifiers: tuple[str, ...]

    @property
    def has_text(self) -> bool:
        return bool(self.before or self.matched or self.after)


@dataclass(frozen=True)
class ConflictView:
    label: str
    kept: str
    kept_where: str
    other: str
    other_where: str


@dataclass(frozen=True)
class AttachmentRef:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class InboundView:
    message: InboundMessage
    sender: str
    subject: str
    attachments: list[AttachmentRef]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # event | inbound | outbound | note
    title: str
    actor: str
    detail: str


@dataclass(frozen=True)
class CasePage:
    case: Case
    request: Request | None
    fields: list[FieldRow]
    problems: list[Problem]
    conflicts: list[ConflictView]
    rule_rounds: list[tuple[int, list[RuleResultRow]]]
    # The latest round's rules: the words each result rests on, by rule id.
    evidence: dict[str, list[EvidenceView]]
    offers: list[Offer]
    inbound: list[InboundView]
    outbound: list[OutboundMessage]
    notes: list[CaseNote]
    timeline: list[TimelineItem]


def _flatten(model: BaseModel, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name in type(model).model_fields:
        if not prefix and name in _SKIPPED:
            continue
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            out += _flatten(value, path + ".")
        elif value not in (None, [], ""):
            out.append((path, value))
    return out


def field_rows(request: Request) -> list[FieldRow]:
    conflicts = {c.field: c for c in request.conflicts}
    rows = []
    for path, value in _flatten(request):
        prov = request.provenance.get(path)
        where = _provenance(prov) if prov is not None else ""
        rows.append(
            FieldRow(path, field_value(path, value), where, conflicts.get(path), field_label(path))
        )
    return rows


def _provenance(prov: Provenance) -> str:
    """Where a value was read: a place of the mail in words, a file with its type."""
    if prov.source in labels("web.source"):
        return _where_from(prov)
    return f"{prov.source} ({prov.kind}{', ' + prov.locator if prov.locator else ''})"


def _value_fr(path: str, value: str) -> str:
    if path in FIELD_VALUES:
        return field_value(path, value)
    if date_match := _ISO_DATE.fullmatch(value):
        year, month, day = date_match.groups()
        return f"{day}/{month}/{year}"
    return value


def _where(source: str, locator: str) -> str:
    where = label("web.source", source, source)
    if source == "headers":
        locator = label("web.header", locator, locator)
    return f"{where}, {locator}" if locator else where


def _where_from(provenance: Provenance) -> str:
    return _where(provenance.source, provenance.locator)


def highlight(text: str, span: str | None) -> tuple[str, str, str] | None:
    """``text`` split around the first occurrence of ``span`` (as written, else ignoring
    case): (before, matched, after), or None when the span is not in the text."""
    if not span:
        return None
    start = text.find(span)
    if start >= 0:
        return text[:start], span, text[start + len(span) :]
    found = re.search(re.escape(span), text, re.IGNORECASE)
    if found is None:
        return None
    return text[: found.start()], found.group(0), text[found.end() :]


def evidence_views(spec: ProgrammeSpec, request: Request) -> dict[str, list[EvidenceView]]:
    views: dict[str, list[EvidenceView]] = {}
    for rule_id, items in rule_evidence(spec, request).items():
        shown = []
        for e in items:
            value = _value_fr(e.field, e.value)
            text = e.text or ""
            # A cell whose text is the value itself says nothing more than the value.
            if text.strip() == e.value and not e.span:
                text = ""
            parts = highlight(text, e.span) if text else None
            before, matched, after = parts or (text, "", "")
            stray = e.span if e.span and parts is None and e.span != text else None
            shown.append(
                EvidenceView(
                    label=field_label(e.field),
                    value=value,
                    where=_where(e.source, e.locator),
                    before=before,
                    matched=matched,
                    after=after,
                    stray_span=stray,
                    qualifiers=tuple(e.qualifiers),
                )
            )
        views[rule_id] = shown
    return views


def conflict_views(request: Request) -> list[ConflictView]:
    return [
        ConflictView(
            label=field_label(c.field),
            kept=_value_fr(c.field, c.kept),
            kept_where=_where_from(c.kept_from),
            other=_value_fr(c.field, c.other),
            other_where=_where_from(c.other_from),
        )
        for c in request.conflicts
    ]


def _latest_evidence(
    case: Case,
    request: Request | None,
    programmes: Mapping[str, ProgrammeSpec],
    roster: Sequence[RosterDoctor],
) -> dict[str, list[EvidenceView]]:
    spec = programmes.get(case.programme)
    if request is None or spec is None:
        return {}
    if STRATEGIES[spec.routing].reads_requis:  # as the rules read it (see routing.assess)
        request = with_requis_filiere(request, roster)
    return evidence_views(spec, request)


def list_attachments(raw: bytes) -> list[AttachmentRef]:
    """The files of a stored mail, as the parsers list them; inline images included."""
    return [AttachmentRef(p.index, p.filename, p.content_type, p.size) for p in list_parts(raw)]


def attachment(raw: bytes, index: int) -> tuple[AttachmentRef, bytes] | None:
    parts = list_parts(raw)
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    data = part.payload()
    if data is None:  # over the size limit or undecodable: nothing to download
        return None
    return AttachmentRef(part.index, part.filename, part.content_type, len(data)), data


def _inbound_view(message: InboundMessage, raw: bytes) -> InboundView:
    envelope = envelope_from_raw(raw)
    address = envelope.from_addr or ""
    sender = f"{envelope.from_name} <{address}>" if envelope.from_name and address else address
    return InboundView(message, sender, envelope.subject, list_attachments(raw))


def _request(case: Case) -> Request | None:
    if not case.request_json:
        return None
    try:
        return Request.model_validate_json(case.request_json)
    except ValidationError:
        return None


def event_label(kind: str) -> str:
    """The French label of a case event kind; the kind itself for one no longer written."""
    return french("event", kind)


def load_case_page(
    db: Session,
    reference: str,
    *,
    programmes: Mapping[str, ProgrammeSpec] | None = None,
    roster: Sequence[RosterDoctor] = (),
) -> CasePage | None:
    """The case and all it shows; ``programmes`` (the app's, loaded once) gives each rule
    the fields it reads, for the words the latest results rest on."""
    case = db.exec(select(Case).where(Case.reference == reference)).first()
    if case is None or case.id is None:
        return None
    cid = case.id
    request = _request(case)
    rules = db.exec(
        select(RuleResultRow)
        .where(RuleResultRow.case_id == cid)
        .order_by(col(RuleResultRow.evaluation), col(RuleResultRow.position))
    ).all()
    rounds: dict[int, list[RuleResultRow]] = {}
    for row in rules:
        rounds.setdefault(row.evaluation, []).append(row)
    offers = list(
        db.exec(select(Offer).where(Offer.case_id == cid).order_by(col(Offer.rank))).all()
    )
    inbound = [
        _inbound_view(m, raw)
        for m, raw in db.exec(
            select(InboundMessage, InboundRaw.raw)
            .join(InboundRaw, col(InboundRaw.inbound_id) == col(InboundMessage.id))
            .where(InboundMessage.case_id == cid)
            .order_by(col(InboundMessage.id))
        ).all()
    ]
    outbound = list(
        db.exec(
            select(OutboundMessage)
            .where(OutboundMessage.case_id == cid)
            .order_by(col(OutboundMessage.id))
        ).all()
    )
    notes = list(
        db.exec(select(CaseNote).where(CaseNote.case_id == cid).order_by(col(CaseNote.id))).all()
    )
    events = db.exec(
        select(CaseEvent).where(CaseEvent.case_id == cid).order_by(col(CaseEvent.id))
    ).all()
    names = {name: spec.short_label_fr for name, spec in (programmes or {}).items()}
    timeline = [
        TimelineItem(
            e.at, "event", event_label(e.kind), e.actor, detail_text(e.kind, e.detail_json, names)
        )
        for e in events
    ]
    timeline += [
        TimelineItem(
            v.message.received_at, "inbound", say("web.timeline.inbound"), v.sender, v.subject
        )
        for v in inbound
    ]
    timeline += [
        TimelineItem(
            o.created_at,
            "outbound",
            say(
                "web.timeline.outbound",
                kind=french("reply_kind", o.kind),
                status=french("outbound_status", o.status),
            ),
            o.recipient,
            o.subject,
        )
        for o in outbound
    ]
    timeline += [
        TimelineItem(n.at, "note", say("web.timeline.note"), n.author, n.text) for n in notes
    ]
    timeline.sort(key=lambda t: t.at)
    return CasePage(
        case=case,
        request=request,
        fields=field_rows(request) if request else [],
        problems=list(request.problems) if request else [],
        conflicts=conflict_views(request) if request else [],
        rule_rounds=sorted(rounds.items()),
        evidence=_latest_evidence(case, request, programmes or {}, roster) if rounds else {},
        offers=offers,
        inbound=inbound,
        outbound=outbound,
        notes=notes,
        timeline=timeline,
    )
