"""Migration helpers: what autogenerate still sees, and the tables a downgrade takes away."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from gateway.storage.db import alembic_config, make_engine, upgrade

__all__ = ["downgrade_then_upgrade", "schema_diffs"]


def schema_diffs(engine: Engine, metadata: MetaData) -> list[Any]:
    """What autogenerate would change for the database to match ``metadata``."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def downgrade_then_upgrade(
    db_url: str, revision: str, tables: set[str]
) -> tuple[set[str], set[str]]:
    """Downgrade to ``revision``, then upgrade to head again: which of ``tables`` the
    downgrade left behind, and which the upgrade did not bring back (both empty if right)."""
    command.downgrade(alembic_config(db_url), revision)
    engine = make_engine(db_url)
    try:
        left = tables & set(inspect(engine).get_table_names())
        upgrade(db_url)
        return left, tables - set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
