from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

from gateway.storage.db import make_engine, upgrade
from gateway.storage.directory_models import DirectoryImport, MssanteAddress, Professional

TABLES = {"directory_import", "professional", "mssante_address"}


def _directory_metadata() -> MetaData:
    metadata = MetaData()
    for model in (DirectoryImport, Professional, MssanteAddress):
        SQLModel.metadata.tables[model.__tablename__].to_metadata(metadata)
    return metadata


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name:
            return str(name)
        if isinstance(part, str):
            return part
    return None


def test_migration_creates_the_directory_tables_as_modelled(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, _directory_metadata())
        ours = [d for d in diffs if _table_of(d) in TABLES]
        assert ours == []
        keys = inspect(engine).get_pk_constraint("professional")["constrained_columns"]
        assert keys == ["national_id", "structure_id", "profession_code", "savoir_faire_code"]
    finally:
        engine.dispose()


def test_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    from alembic import command

    from gateway.storage.db import alembic_config

    command.downgrade(alembic_config(db_url), "0001")
    engine = make_engine(db_url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(db_url)
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) >= TABLES
    finally:
        engine.dispose()
