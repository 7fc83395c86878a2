"""Alembic environment: the URL comes from the caller (gateway.storage.db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Imported for their side effect: registering the tables on SQLModel.metadata.
import gateway.storage.directory_models
import gateway.storage.lease_models
import gateway.storage.models
import gateway.storage.web_models  # noqa: F401
from gateway.storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
