"""retention: the purge passes, and closed cases reduced to their audit trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00

From gateway/storage/models.py (RetentionRun, Case.reduced_at); gateway/cases/retention.py
writes them. tests/gateway/storage/test_migrations.py checks the schema matches every model.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", when(), nullable=False),
        sa.Column("finished_at", when(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_retention_run_started_at"), "retention_run", ["started_at"], unique=False
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reduced_at", when(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("reduced_at")
    op.drop_index(op.f("ix_retention_run_started_at"), table_name="retention_run")
    op.drop_table("retention_run")
