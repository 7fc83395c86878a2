"""SQL for the directory import: one upsert per table, the batch counts, deactivation.

Plain SQL rather than ORM objects: two million rows go through ``executemany``
with no per-row Python object. ``INSERT … ON CONFLICT DO UPDATE`` is spelt the
same on SQLite (≥ 3.24) and PostgreSQL; only the placeholder differs.

Within one import the first line of a key wins (``WHERE t.batch_id <> excluded.batch_id``):
a repeated key later in the file is a duplicate and changes nothing, so a
re-import of the same file compares each key with the same line as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.directory.extract import FileKind
from gateway.directory.stage import STAGE_TABLE

__all__ = ["STAGE_SCHEMA", "TableSql", "table_sql"]

STAGE_SCHEMA = "scratch"  # the name a staged file is attached under


@dataclass(frozen=True)
class TableSql:
    table: str
    upsert: str  # parameters: the reader's row
    merge: str  # SQLite only: from the attached scratch file, in file order; no parameters
    counts: str  # one row: created, changed, seen in this batch
    active: str  # active rows before this batch's deactivation
    deactivate: str  # no parameters


# (column, SQL expression) in the reader's field order; each "{}" takes the next field.
# Empty strings become NULL, except in key columns where NULL would defeat the unique index.
_PROFESSIONAL: tuple[tuple[str, str], ...] = (
    ("id_type", "{}"),
    ("pp_id", "{}"),
    ("national_id", "{}"),
    ("civility", "NULLIF({}, '')"),
    ("family_name", "NULLIF({}, '')"),
    ("given_name", "NULLIF({}, '')"),
    ("profession_code", "{}"),
    ("profession_label", "NULLIF({}, '')"),
    ("savoir_faire_code", "{}"),
    ("savoir_faire_label", "NULLIF({}, '')"),
    ("practice_mode_code", "NULLIF({}, '')"),
    ("practice_mode_label", "NULLIF({}, '')"),
    ("structure_id", "{}"),
    # Raison sociale, else the enseigne: two fields, one column.
    ("structure_name", "COALESCE(NULLIF({}, ''), NULLIF({}, ''))"),
    ("postal_code", "NULLIF({}, '')"),
    ("commune_code", "NULLIF({}, '')"),
    ("commune_label", "NULLIF({}, '')"),
    ("phone", "NULLIF({}, '')"),
    ("email", "NULLIF({}, '')"),
)
_PROFESSIONAL_KEY: tuple[str, ...] = (
    "national_id",
    "structure_id",
    "profession_code",
    "savoir_faire_code",
)

_MSSANTE: tuple[tuple[str, str], ...] = (
    ("bal_type", "{}"),
    ("address", "{}"),
    ("national_id", "NULLIF({}, '')"),
    ("profession_code", "NULLIF({}, '')"),
    ("profession_label", "NULLIF({}, '')"),
    ("savoir_faire_code", "NULLIF({}, '')"),
    ("savoir_faire_label", "NULLIF({}, '')"),
    ("structure_name", "COALESCE(NULLIF({}, ''), NULLIF({}, ''))"),
    ("postal_code", "NULLIF({}, '')"),
)
_MSSANTE_KEY: tuple[str, ...] = ("address",)


def _upsert(
    table: str,
    columns: tuple[tuple[str, str], ...],
    key: tuple[str, ...],
    dialect: str,
    source: str,
) -> str:
    """The upsert of ``source`` rows (a VALUES or SELECT clause) into ``table``."""
    names = [c for c, _ in columns]
    data = [c for c in names if c not in key]
    # "Unchanged" is decided in SQL, column by column: no hash to compute in Python.
    old = ", ".join(f"t.{c}" for c in data)
    new = ", ".join(f"excluded.{c}" for c in data)
    same_op = "IS" if dialect == "sqlite" else "IS NOT DISTINCT FROM"
    same = f"t.active AND ({old}) {same_op} ({new})"
    return (
        f"INSERT INTO {table} AS t ({', '.join(names)}, updated_at, "
        f"active, batch_id, changed_batch_id, created_batch_id) {source} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        f"changed_batch_id = CASE WHEN {same} THEN t.changed_batch_id "
        "ELSE excluded.batch_id END, "
        f"updated_at = CASE WHEN {same} THEN t.updated_at ELSE excluded.updated_at END, "
        + "".join(f"{c} = excluded.{c}, " for c in data)
        + "active = TRUE, batch_id = excluded.batch_id "
        "WHERE t.batch_id <> excluded.batch_id"
    )


def _expressions(columns: tuple[tuple[str, str], ...], placeholder: Callable[[int], str]) -> str:
    """The value expressions, the n-th field of a row written ``placeholder(n)``."""
    n = itertools.count()
    return ", ".join(
        e.format(*(placeholder(next(n)) for _ in range(e.count("{}")))) for _, e in columns
    )


def _stamp(dialect: str, when: datetime) -> str:
    """``when`` as an SQL literal, stored as SQLAlchemy stores a UTCDateTime."""
    utc = when.astimezone(UTC)
    if dialect == "sqlite":
        return "'" + utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
    return "TIMESTAMPTZ '" + utc.isoformat() + "'"


def table_sql(kind: FileKind, dialect: str, batch: int, when: datetime) -> TableSql:
    """Statements for ``kind`` on ``dialect`` ("sqlite" or "postgresql") and import ``batch``.

    The batch id and the time are inlined (an int and a formatted datetime, never
    outside text) so each row binds only its own fields.
    """
    p = "?" if dialect == "sqlite" else "%s"
    batch = int(batch)  # inlined: must be an int
    stamp = _stamp(dialect, when)
    if kind is FileKind.PERSONNE_ACTIVITE:
        table, columns, key = "professional", _PROFESSIONAL, _PROFESSIONAL_KEY
    else:
        table, columns, key = "mssante_address", _MSSANTE, _MSSANTE_KEY
    tail = f"{stamp}, TRUE, {batch}, {batch}, {batch}"
    values = f"VALUES ({_expressions(columns, lambda _n: p)}, {tail})"
    # "WHERE true": SQLite needs it to parse an upsert after INSERT … SELECT.
    staged = (
        f"SELECT {_expressions(columns, lambda n: f'c{n}')}, {tail} "
        f"FROM {STAGE_SCHEMA}.{STAGE_TABLE} WHERE true ORDER BY rowid"
    )
    return TableSql(
        table=table,
        upsert=_upsert(table, columns, key, dialect, values),
        merge=_upsert(table, columns, key, dialect, staged),
        counts=(
            f"SELECT COALESCE(SUM(CASE WHEN created_batch_id = {batch} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN changed_batch_id = {batch} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN batch_id = {batch} THEN 1 ELSE 0 END), 0) FROM {table}"
        ),
        active=f"SELECT COUNT(*) FROM {table} WHERE active",
        deactivate=(
            f"UPDATE {table} SET active = FALSE, changed_batch_id = {batch}, "
            f"updated_at = {stamp} WHERE active AND batch_id <> {batch}"
        ),
    )
