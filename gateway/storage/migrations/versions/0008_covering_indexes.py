"""covering indexes: the queue, rate-limit and metrics queries answered from an index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00

On SQLite a row holding a mail's bytes spills into overflow pages, and a column stored after
them (status, lease, created_at) can only be read by walking that chain: a claim, a reply
count or a metrics scrape read every mail it skipped, tens of kilobytes each. These indexes
hold every column those queries filter or group on. From gateway/storage/models.py;
tests/gateway/storage/test_migrations.py checks the schema matches every model.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_due", "inbound_message", ["status", "next_attempt_at", "lease_until"]
    )
    op.drop_index("ix_inbound_status_next", table_name="inbound_message")
    op.create_index(
        "ix_outbound_due",
        "outbound_message",
        ["status", "next_attempt_at", "lease_until", "created_at"],
    )
    op.drop_index("ix_outbound_status_next", table_name="outbound_message")
    op.create_index(
        "ix_outbound_recipient_recent", "outbound_message", ["recipient", "created_at", "kind"]
    )
    op.drop_index("ix_outbound_message_recipient", table_name="outbound_message")
    op.create_index("ix_outbound_kind_status", "outbound_message", ["kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbound_kind_status", table_name="outbound_message")
    op.create_index("ix_outbound_message_recipient", "outbound_message", ["recipient"])
    op.drop_index("ix_outbound_recipient_recent", table_name="outbound_message")
    op.create_index("ix_outbound_status_next", "outbound_message", ["status", "next_attempt_at"])
    op.drop_index("ix_outbound_due", table_name="outbound_message")
    op.create_index("ix_inbound_status_next", "inbound_message", ["status", "next_attempt_at"])
    op.drop_index("ix_inbound_due", table_name="inbound_message")
