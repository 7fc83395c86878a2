"""Recording coordinator actions: one audit row, and a case event when a case is concerned."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from gateway.storage import repo
from gateway.storage.web_models import AuditEntry

__all__ = ["record"]


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
