"""Tables of several replicas on one PostgreSQL database: who is alive, who reads which mailbox.

A replica heartbeats its ``replica`` row; a mailbox is read only by the holder of its
``mailbox_lease`` row, until ``expires_at``. Both are written with the database's clock, so
the machines' clocks never need to agree. SQLite runs one daemon and uses neither.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from gateway.storage.models import utcnow

__all__ = ["MailboxLease", "Replica"]


class Replica(SQLModel, table=True):
    __tablename__ = "replica"

    instance: str = Field(primary_key=True, max_length=120)  # Config.instance
    # Random per process start: tells a restart of this instance from a second process
    # wrongly given the same name.
    token: str = Field(max_length=64)
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class MailboxLease(SQLModel, table=True):
    __tablename__ = "mailbox_lease"

    mailbox: str = Field(primary_key=True, max_length=64)  # MailboxConfig.name
    holder: str | None = Field(default=None, max_length=120)  # Replica.instance
    token: str | None = Field(default=None, max_length=64)
    acquired_at: datetime = Field(default_factory=utcnow)
    renewed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(default_factory=utcnow, index=True)
