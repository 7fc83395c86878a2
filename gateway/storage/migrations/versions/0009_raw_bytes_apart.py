"""raw bytes apart: each mail's bytes in a row of their own (inbound_raw, outbound_raw)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11 10:00:00

On SQLite every UPDATE of a mail's row (a lease, a status) rewrote its bytes' overflow pages
and journaled them; in a table of their own the bytes are written once. The bytes are
copied, then dropped from the mails' rows: on SQLite with its own ALTER TABLE DROP COLUMN
(3.35+), which leaves the tables that refer to a mail alone, where a batch copy would drop
the referenced table. From gateway/storage/models.py; tests/gateway/storage/test_migrations.py
checks the schema matches every model and that the bytes come through both ways.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_MAILS = (
    ("inbound_message", "inbound_raw", "inbound_id"),
    ("outbound_message", "outbound_raw", "outbound_id"),
)


def upgrade() -> None:
    for mails, raws, key in _MAILS:
        op.create_table(
            raws,
            sa.Column(key, sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("raw", sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint([key], [f"{mails}.id"]),
            sa.PrimaryKeyConstraint(key),
        )
        op.execute(f"INSERT INTO {raws} ({key}, raw) SELECT id, raw FROM {mails}")
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {mails} DROP COLUMN raw")
        else:
            op.drop_column(mails, "raw")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for mails, raws, key in _MAILS:
        # NOT NULL needs a default to be added to rows that exist; it stays after the copy.
        empty = sa.text("X''" if sqlite else "''::bytea")
        op.add_column(
            mails, sa.Column("raw", sa.LargeBinary(), nullable=False, server_default=empty)
        )
        op.execute(
            f"UPDATE {mails} SET raw = "
            f"(SELECT r.raw FROM {raws} AS r WHERE r.{key} = {mails}.id) "
            f"WHERE EXISTS (SELECT 1 FROM {raws} AS r WHERE r.{key} = {mails}.id)"
        )
        op.drop_table(raws)
