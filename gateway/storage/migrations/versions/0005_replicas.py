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


text = sqlmodel.sql.sqltypes.AutoString
when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "replica",
        sa.Column("instance", text(length=120), nullable=False),
        sa.Column("token", text(length=64), nullable=False),
        sa.Column("host", text(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", when(), nullable=False),
        sa.Column("heartbeat_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("instance"),
    )
    op.create_table(
        "mailbox_lease",
        sa.Column("mailbox", text(length=64), nullable=False),
        sa.Column("holder", text(length=120), nullable=True),
        sa.Column("token", text(length=64), nullable=True),
        sa.Column("acquired_at", when(), nullable=False),
        sa.Column("renewed_at", when(), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )
    op.create_index("ix_mailbox_lease_expires_at", "mailbox_lease", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_mailbox_lease_expires_at", table_name="mailbox_lease")
    op.drop_table("mailbox_lease")
    op.drop_table("replica")
