"""replicas: heartbeats and mailbox leases, for several daemons on one PostgreSQL database

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:10:00

From gateway/storage/lease_models.py; tests/gateway/storage/test_migrations.py checks the
schema matches every model.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _at() -> sqlmodel.sql.sqltypes.UTCDateTime:
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "replica",
        sa.Column("instance", _s(120), nullable=False),
        sa.Column("token", _s(64), nullable=False),
        sa.Column("host", _s(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _at(), nullable=False),
        sa.Column("heartbeat_at", _at(), nullable=False),
        sa.PrimaryKeyConstraint("instance"),
    )
    op.create_table(
        "mailbox_lease",
        sa.Column("mailbox", _s(64), nullable=False),
        sa.Column("holder", _s(120), nullable=True),
        sa.Column("token", _s(64), nullable=True),
        sa.Column("acquired_at", _at(), nullable=False),
        sa.Column("renewed_at", _at(), nullable=False),
        sa.Column("expires_at", _at(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )
    op.create_index("ix_mailbox_lease_expires_at", "mailbox_lease", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_mailbox_lease_expires_at", table_name="mailbox_lease")
    op.drop_table("mailbox_lease")
    op.drop_table("replica")
