"""Tables of the coordinator web UI: accounts, sessions, login attempts, notes, audit log.

The indexes that the routing log and the /metrics collector need on ``cases`` and
``inbound_message`` are declared here too: the web UI owns those queries, and migration 0004
creates them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from gateway.storage.models import Case, InboundMessage, utcnow

__all__ = ["AuditEntry", "CaseNote", "LoginAttempt", "Role", "WebSession", "WebUser"]


class Role(StrEnum):
    VIEWER = "viewer"  # reads everything a coordinator reads
    COORDINATOR = "coordinator"  # acts on cases and messages
    ADMIN = "admin"  # also users, roster, audit log

    def at_least(self, other: Role) -> bool:
        order = (Role.VIEWER, Role.COORDINATOR, Role.ADMIN)
        return order.index(self) >= order.index(other)


class WebUser(SQLModel, table=True):
    __tablename__ = "web_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)  # argon2id, PHC string
    role: str = Field(default=Role.VIEWER, max_length=16)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A server-side session: the cookie carries its signed id, so disabling a user ends it."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)  # SHA-256 of the random token
    user_id: int = Field(foreign_key="web_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_user_at", "username", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    client: str = Field(max_length=64)  # remote address
    success: bool
    at: datetime = Field(default_factory=utcnow)


class CaseNote(SQLModel, table=True):
    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    author: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what, when: every action taken through the UI or the user CLI."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    target: str | None = Field(default=None, max_length=120)  # e.g. "inbound:42", "user:alice"
    client: str | None = Field(default=None, max_length=64)
    detail_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


# Keyset pagination walks (opened_at, id) newest first, optionally within one filter.
_cases = Case.__table__  # type: ignore[attr-defined]
Index("ix_cases_opened_id", _cases.c.opened_at, _cases.c.id)
Index("ix_cases_programme_opened", _cases.c.programme, _cases.c.opened_at, _cases.c.id)
Index("ix_cases_status_opened", _cases.c.status, _cases.c.opened_at, _cases.c.id)
# The /metrics collector groups by these at every scrape: index-only scans, not table scans
# (an inbound row carries the raw message).
Index("ix_cases_programme_status", _cases.c.programme, _cases.c.status)
_inbound = InboundMessage.__table__  # type: ignore[attr-defined]
Index("ix_inbound_mailbox_status", _inbound.c.mailbox, _inbound.c.status)
