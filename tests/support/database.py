"""Database fixtures: every storage test runs on SQLite and on a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gateway.storage.db import upgrade
from tests.support.ci import in_ci

PG_ADMIN = os.environ.get("AIGUILLEUR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(reason: str) -> None:
    """A missing server fails in CI and skips elsewhere, with the reason."""
    if in_ci():
        pytest.fail(f"required test server unavailable in CI: {reason}")
    pytest.skip(reason)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {PG_ADMIN} not reachable: {exc}")
    return PG_ADMIN


def create_pg_database(admin_url: str) -> str:
    name = f"aig_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_pg_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'aiguilleur.db'}"
        upgrade(url)
        yield url
        return
    admin = request.getfixturevalue("pg_server")
    name = create_pg_database(admin)
    url = _pg_url(name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(admin, name)
