"""The migrations, run to head, build exactly the schema the models declare."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import gateway.storage.directory_models
import gateway.storage.models
import gateway.storage.web_models  # noqa: F401  (registers the tables)
from gateway.storage.db import alembic_config, make_engine

WEB_TABLES = {"web_user", "web_session", "login_attempt", "case_note", "audit_log"}


def test_head_matches_every_model(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, SQLModel.metadata)
        assert diffs == []
        names = {ix["name"] for ix in inspect(engine).get_indexes("cases")}
        assert {"ix_cases_opened_id", "ix_cases_status_opened"} <= names
    finally:
        engine.dispose()


def test_web_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "0003")
    engine = make_engine(db_url)
    try:
        assert not WEB_TABLES & set(inspect(engine).get_table_names())
        command.upgrade(alembic_config(db_url), "head")
        assert set(inspect(engine).get_table_names()) >= WEB_TABLES
    finally:
        engine.dispose()
