"""Recording coordinator actions: one audit row, and a case event when a case is concerned."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.web_models import AuditEntry

__all__ = ["AuditAction", "record"]


class AuditAction(StrEnum):
    """Every action the audit log records; its French label is ``audit.<action>``
    (``gateway/wording/actions.toml``). A test reads the callers of ``record`` and
    ``Call.audited`` and the user commands, so a new action cannot ship unlabelled."""

    # Sessions (gateway.web.routes.session) and accounts (`aiguilleur user …`).
    LOGIN = "login"
    LOGOUT = "logout"
    USER_ADDED = "user_added"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105  (an action name, not a password)
    USER_DISABLED = "user_disabled"
    # The roster (gateway.web.routes.directory).
    ROSTER_EDITED = "roster_edited"
    # A coordinator's routing actions (gateway.web.routes.cases).
    CASE_ASSIGNED = "case_assigned"
    CASE_CLOSED = "case_closed"
    FIELD_CORRECTED = CaseEventKind.FIELD_CORRECTED.value
    NOTE_ADDED = CaseEventKind.NOTE_ADDED.value
    # Messages (gateway.web.routes.messages).
    MESSAGE_RELEASED = CaseEventKind.MESSAGE_RELEASED.value
    MESSAGE_DISCARDED = CaseEventKind.MESSAGE_DISCARDED.value
    REPLY_RESENT = CaseEventKind.REPLY_RESENT.value
    ATTACHMENT_DOWNLOADED = CaseEventKind.ATTACHMENT_DOWNLOADED.value


def record(
    db: Session,
    actor: str,
    action: str,
    *,
    case_id: int | None = None,
    target: str | None = None,
    client: str | None = None,
    detail: dict[str, Any] | None = None,
    timeline: bool = True,
) -> None:
    """Add to the caller's transaction, so the action and its record commit together.

    ``timeline=False`` when the action already wrote its own case event (routing actions).
    """
    detail = detail or {}
    db.add(
        AuditEntry(
            actor=actor,
            action=action,
            case_id=case_id,
            target=target,
            client=client,
            detail_json=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )
    if case_id is not None and timeline:
        repo.add_event(db, case_id, action, {"target": target, **detail}, actor=actor)
