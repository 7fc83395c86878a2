from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

from gateway.storage.db import make_engine
from gateway.storage.directory_models import DirectoryImport, MssanteAddress, Professional
from tests.support.migrations import downgrade_then_upgrade, schema_diffs

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
        diffs = schema_diffs(engine, _directory_metadata())
        ours = [d for d in diffs if _table_of(d) in TABLES]
        assert ours == []
        keys = inspect(engine).get_pk_constraint("professional")["constrained_columns"]
        assert keys == ["national_id", "structure_id", "profession_code", "savoir_faire_code"]
    finally:
        engine.dispose()


def test_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    assert downgrade_then_upgrade(db_url, "0001", TABLES) == (set(), set())
