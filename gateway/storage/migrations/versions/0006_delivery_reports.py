"""delivery reports: what a returned DSN said of an outbound mail, found by its Message-ID

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00

From gateway/storage/models.py (OutboundMessage); the new statuses (outbound and offer
``bounced``) fit the existing columns. tests/gateway/storage/test_migrations.py checks the
schema matches every model.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


text = sqlmodel.sql.sqltypes.AutoString
when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounced_at", when(), nullable=True))
        batch_op.add_column(sa.Column("dsn_status", text(length=16), nullable=True))
        batch_op.add_column(sa.Column("dsn_diagnostic", sa.Text(), nullable=True))
        batch_op.create_index("ix_outbound_message_id", ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_message_id")
        batch_op.drop_column("dsn_diagnostic")
        batch_op.drop_column("dsn_status")
        batch_op.drop_column("bounced_at")
