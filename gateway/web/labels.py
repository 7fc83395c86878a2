"""The French label of every code the coordinator UI shows: one table per enumeration.

The database keeps codes (``waiting_coordinator``, ``offer_sent``, ``pending``); a
coordinator reads French. Each enumeration below names its label table in
``gateway/wording`` and takes its codes from the enum (or ``Literal``) that defines them,
so a new value cannot ship without a label: ``tests/gateway/web/test_labels.py`` asks
every code for its label, and reads the code that writes the few enumerations that have
no enum of their own (event details, audit targets, health checks).

Templates call ``label(enumeration, code)`` (a Jinja global); Python calls ``french``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType, UnionType
from typing import Any

from pydantic import BaseModel

from gateway.cases.actions import CLOSE_OUTCOMES
from gateway.loops import LOOPS
from gateway.replies.facts import ReplyKind
from gateway.routing.answers import Answer
from gateway.routing.decision import TO_COORDINATOR
from gateway.routing.plan import PlanAction
from gateway.storage.events import CaseEventKind
from gateway.storage.models import (
    CaseStatus,
    InboundStatus,
    OfferKind,
    OfferStatus,
    OutboundStatus,
)
from gateway.storage.web_models import Role
from gateway.web.audit import AuditAction
from gateway.wording import label, say
from parsers.field_catalog import field_label_fr
from parsers.request import Patient, Reporter, RequestKind
from rules.engine import DecisionOutcome
from rules.result import Outcome
from rules.sender_verified import SenderVerifiedParams

__all__ = [
    "DETAIL_KEYS",
    "ENUMERATIONS",
    "FIELD_VALUES",
    "HEALTH_CHECKS",
    "TARGET_KINDS",
    "Enumeration",
    "check_text",
    "detail_text",
    "field_label",
    "field_value",
    "french",
    "target_text",
    "value_enumeration",
]


@dataclass(frozen=True)
class Enumeration:
    section: str  # its label table: ``<section>.<code>`` in gateway/wording
    codes: tuple[str, ...]  # every value the gateway writes


def _members(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _literal(alias: object) -> tuple[str, ...]:
    """The strings of a ``Literal`` (``Literal[…] | None`` too)."""
    if typing.get_origin(alias) is typing.Literal:
        return tuple(str(value) for value in typing.get_args(alias))
    if typing.get_origin(alias) in (typing.Union, UnionType):
        return tuple(value for arg in typing.get_args(alias) for value in _literal(arg))
    return ()


def _field(model: type[BaseModel], name: str) -> tuple[str, ...]:
    return _literal(model.model_fields[name].annotation)


# What ``gateway.cases.answers.doctor_message`` returns besides an ``Answer``.
_TAKEN_AS = (*_literal(Answer), "avis", "late")
# Why ``gateway.outbox.queue`` holds a reply back.
_SUPPRESSED = ("rate limit",)

# The keys of a case event's (or an audit entry's) detail, wherever it is written.
DETAIL_KEYS = (
    "programme",
    "inbound_id",
    "kind",
    "problems",
    "remaining_problems",
    "outcome",
    "failed",
    "missing",
    "plan",
    "policy",
    "to",
    "offer_id",
    "rpps",
    "rank",
    "reason",
    "taken_as",
    "codes",
    "attachments",
    "field",
    "message_id",
    "error",
    "previous_error",
    "delivery_status",
    "target",
    "reply",
    "accepts_new_patients",
    "filieres",
    "absences",
)
# What an audited action was done to: the prefix of its target (``inbound:42``).
TARGET_KINDS = ("inbound", "outbound", "note", "offer", "outcome", "field", "rpps", "user")
# The checks of ``gateway.health`` (``mailbox:<name>`` is one per mailbox).
HEALTH_CHECKS = ("database", "mailbox", "outbox_backlog", "outbox_oldest", "loop")

ENUMERATIONS: Mapping[str, Enumeration] = MappingProxyType(
    {
        "case_status": Enumeration("case_status", _members(CaseStatus)),
        # The case's decision: the rules' outcome, or "to a coordinator" when escalated.
        "decision": Enumeration("decision", (*_literal(DecisionOutcome), TO_COORDINATOR)),
        "rule_outcome": Enumeration("rule_outcome", _members(Outcome)),
        "offer_status": Enumeration("offer_status", _members(OfferStatus)),
        "offer_kind": Enumeration("offer_kind", _members(OfferKind)),
        "inbound_status": Enumeration("inbound_status", _members(InboundStatus)),
        "outbound_status": Enumeration("outbound_status", _members(OutboundStatus)),
        # A mail's kind reads as its subject says it ("Accusé de réception", "Relance").
        "reply_kind": Enumeration("subject", _members(ReplyKind)),
        "event": Enumeration("event", _members(CaseEventKind)),
        "audit_action": Enumeration("audit", _members(AuditAction)),
        "audit_target": Enumeration("audit_target", TARGET_KINDS),
        "user_role": Enumeration("web.user_role", _members(Role)),
        "request_kind": Enumeration("request_kind", _members(RequestKind)),
        "reporter_role": Enumeration("web.role", _field(Reporter, "declared_role")),
        "sex": Enumeration("web.sex", _field(Patient, "sex")),
        "ins_kind": Enumeration("web.ins_kind", _field(Patient, "ins_kind")),
        "plan_action": Enumeration("plan_action", _literal(PlanAction)),
        "doctor_answer": Enumeration("doctor_answer", _TAKEN_AS),
        "sender_policy": Enumeration("sender_policy", _field(SenderVerifiedParams, "policy")),
        "suppression_reason": Enumeration("suppression_reason", _SUPPRESSED),
        "close_outcome": Enumeration("action.outcome", tuple(CLOSE_OUTCOMES)),
        "detail": Enumeration("detail", DETAIL_KEYS),
        "health_check": Enumeration("web.check", HEALTH_CHECKS),
        "loop": Enumeration("web.loop", LOOPS),
    }
)

# The request's fields whose value is a code, by path.
FIELD_VALUES: Mapping[str, str] = MappingProxyType(
    {
        "kind": "request_kind",
        "reporter.declared_role": "reporter_role",
        "patient.sex": "sex",
        "patient.ins_kind": "ins_kind",
    }
)

# A detail value's enumeration, by key; by event and key where the key means more than one.
_VALUE_BY_KEY: Mapping[str, str] = {
    "plan": "plan_action",
    "policy": "sender_policy",
    "taken_as": "doctor_answer",
    "reply": "reply_kind",
}
_VALUE_BY_EVENT: Mapping[tuple[str, str], str] = {
    (CaseEventKind.MESSAGE_RECEIVED, "kind"): "request_kind",
    (CaseEventKind.OFFER_SENT, "kind"): "offer_kind",
    **{
        (event, "kind"): "reply_kind"
        for event in (
            CaseEventKind.REPLY_QUEUED,
            CaseEventKind.REPLY_SENT,
            CaseEventKind.REPLY_FAILED,
            CaseEventKind.REPLY_RETRY,
            CaseEventKind.REPLY_BOUNCED,
            CaseEventKind.REPLY_DELAYED,
        )
    },
    (CaseEventKind.RULES_EVALUATED, "outcome"): "decision",
    (CaseEventKind.CLOSED, "outcome"): "close_outcome",
    (AuditAction.CASE_CLOSED, "outcome"): "close_outcome",
    (CaseEventKind.REPLY_SUPPRESSED, "reason"): "suppression_reason",
}


def value_enumeration(event: str, key: str) -> str | None:
    """The enumeration a detail value belongs to, when it is a code; None for free values
    (identifiers, counts, addresses, sentences) and the keys rendered their own way."""
    return _VALUE_BY_EVENT.get((event, key)) or _VALUE_BY_KEY.get(key)


def french(enumeration: str, code: object) -> str:
    """The label of ``code`` in ``enumeration`` (a name of ``ENUMERATIONS``).

    A code the table lacks (a row written by an older version) shows as it is, so a page
    never fails on it; the tests make sure the gateway writes none.
    """
    if code is None or code == "":
        return say("web.value.none")
    text = str(code)
    return label(ENUMERATIONS[enumeration].section, text, text)


def field_label(path: str) -> str:
    """A request field's French name, capitalised: the synonym table's, else ``web.field``."""
    text = field_label_fr(path)
    if text == path:
        text = label("web.field", path, path)
    return text[:1].upper() + text[1:]


def _plain(value: Any) -> str:
    if value is None:
        return say("web.value.none")
    if isinstance(value, bool):
        return say("web.value.yes") if value else say("web.value.no")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def field_value(path: str, value: Any) -> str:
    """A request field's value as the case page writes it."""
    table = FIELD_VALUES.get(path)
    if table is not None and isinstance(value, str):
        return french(table, value)
    return _plain(value)


def target_text(target: str | None) -> str:
    """``inbound:42`` as "message reçu n° 42"; a target of no known kind as it is."""
    if not target:
        return ""
    kind, sep, ident = target.partition(":")
    if not sep or kind not in TARGET_KINDS:
        return target
    if kind == "outcome":
        ident = french("close_outcome", ident)
    elif kind == "field":
        ident = field_label(ident)
    return say("web.value.target", kind=french("audit_target", kind), value=ident)


def check_text(name: str) -> str:
    """A failed health check (``mailbox:sig``) in words."""
    kind, _, which = name.partition(":")
    text = french("health_check", kind)
    if kind == "loop":
        return say("web.value.target", kind=text, value=french("loop", which))
    return say("web.value.target", kind=text, value=which) if which else text


def _value(event: str, key: str, value: Any, programmes: Mapping[str, str]) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value(event, key, v, programmes) for v in value)
    if not isinstance(value, str):
        return _plain(value)
    if key == "target":
        return target_text(value)
    if key == "field":
        return field_label(value)
    if key == "programme":
        return programmes.get(value, value)
    table = value_enumeration(event, key)
    return french(table, value) if table is not None else value


def detail_text(
    event: str, detail: Mapping[str, Any] | str, programmes: Mapping[str, str] | None = None
) -> str:
    """A case event's (or an audit entry's) detail in French: "clé : valeur · …".

    ``event`` is the event kind or the audit action, which says what some keys mean;
    ``detail`` is the dict or its JSON; ``programmes`` names the programmes.
    """
    data: object = detail
    if isinstance(detail, str):
        try:
            data = json.loads(detail)
        except ValueError:
            return detail
    if not isinstance(data, Mapping):
        return _plain(data)
    names = programmes or {}
    return " · ".join(
        say(
            "web.value.detail_item",
            key=french("detail", key),
            value=_value(event, str(key), value, names),
        )
        for key, value in data.items()
        if value not in (None, "", [], {})
    )
