"""Everything the case page shows, read in one place: the timeline and the parsed request."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    Offer,
    OutboundMessage,
    RuleResultRow,
)
from gateway.storage.web_models import CaseNote
from parsers.request import Conflict, Problem, Request

__all__ = [
    "AttachmentRef",
    "CasePage",
    "FieldRow",
    "InboundView",
    "TimelineItem",
    "attachment",
    "list_attachments",
    "load_case_page",
]

_SKIPPED = frozenset({"provenance", "conflicts", "problems", "attachments"})
EVENT_LABELS = {
    "case_opened": "Dossier ouvert",
    "message_received": "Message reçu",
    "rules_evaluated": "Règles évaluées",
    "reply_queued": "Réponse mise en file",
    "offer_sent": "Proposition envoyée",
    "offer_accepted": "Proposition acceptée",
    "offer_refused": "Proposition refusée",
    "offer_expired": "Proposition expirée",
    "note_added": "Note ajoutée",
    "message_released": "Message remis en traitement",
    "message_discarded": "Message écarté",
    "reply_resent": "Réponse renvoyée",
}


@dataclass(frozen=True)
class FieldRow:
    path: str
    value: str
    provenance: str
    conflict: Conflict | None


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
    conflicts: list[Conflict]
    rule_rounds: list[tuple[int, list[RuleResultRow]]]
    offers: list[Offer]
    inbound: list[InboundView]
    outbound: list[OutboundMessage]
    notes: list[CaseNote]
    timeline: list[TimelineItem]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


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
        where = ""
        if prov is not None:
            where = f"{prov.source} ({prov.kind}{', ' + prov.locator if prov.locator else ''})"
        rows.append(FieldRow(path, _text(value), where, conflicts.get(path)))
    return rows


def _parse_mail(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _attachment_parts(msg: EmailMessage) -> list[EmailMessage]:
    return [p for p in msg.walk() if isinstance(p, EmailMessage) and p.get_filename()]


def list_attachments(raw: bytes) -> list[AttachmentRef]:
    try:
        parts = _attachment_parts(_parse_mail(raw))
    except Exception:  # a mail we cannot walk still shows, without attachments
        return []
    refs = []
    for i, part in enumerate(parts):
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        refs.append(
            AttachmentRef(i, part.get_filename() or f"piece-{i}", part.get_content_type(), size)
        )
    return refs


def attachment(raw: bytes, index: int) -> tuple[AttachmentRef, bytes] | None:
    parts = _attachment_parts(_parse_mail(raw))
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    ref = AttachmentRef(
        index, part.get_filename() or f"piece-{index}", part.get_content_type(), len(data)
    )
    return ref, data


def _inbound_view(message: InboundMessage) -> InboundView:
    try:
        msg = _parse_mail(message.raw)
        sender, subject = str(msg.get("From", "")), str(msg.get("Subject", ""))
    except Exception:
        sender, subject = "", ""
    return InboundView(message, sender, subject, list_attachments(message.raw))


def _request(case: Case) -> Request | None:
    if not case.request_json:
        return None
    try:
        return Request.model_validate_json(case.request_json)
    except ValidationError:
        return None


def _detail(detail_json: str) -> str:
    try:
        data = json.loads(detail_json)
    except ValueError:
        return detail_json
    if not isinstance(data, dict):
        return str(data)
    return " · ".join(f"{k} : {_text(v)}" for k, v in data.items() if v not in (None, "", [], {}))


def load_case_page(db: Session, reference: str) -> CasePage | None:
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
        _inbound_view(m)
        for m in db.exec(
            select(InboundMessage)
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
    timeline = [
        TimelineItem(
            e.at, "event", EVENT_LABELS.get(e.kind, e.kind), e.actor, _detail(e.detail_json)
        )
        for e in events
    ]
    timeline += [
        TimelineItem(v.message.received_at, "inbound", "Message entrant", v.sender, v.subject)
        for v in inbound
    ]
    timeline += [
        TimelineItem(
            o.created_at,
            "outbound",
            f"Message sortant ({o.kind}, {o.status})",
            o.recipient,
            o.subject,
        )
        for o in outbound
    ]
    timeline += [TimelineItem(n.at, "note", "Note", n.author, n.text) for n in notes]
    timeline.sort(key=lambda t: t.at)
    return CasePage(
        case=case,
        request=request,
        fields=field_rows(request) if request else [],
        problems=list(request.problems) if request else [],
        conflicts=list(request.conflicts) if request else [],
        rule_rounds=sorted(rounds.items()),
        offers=offers,
        inbound=inbound,
        outbound=outbound,
        notes=notes,
        timeline=timeline,
    )
