"""Database fixtures: every storage test runs on SQLite and on a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

from gateway.storage.db import make_engine, upgrade
from tests.support.ci import in_ci
from tests.support.pg_cluster import ClusterError, start_cluster

# Unset: the local server if one lets us in, else a throwaway cluster of our own.
# A URL: that server, which must answer. "throwaway": always a cluster of our own.
PG_SETTING = os.environ.get("AIGUILLEUR_TEST_PG", "").strip()
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def unavailable(reason: str) -> NoReturn:
    """A missing server fails in CI and skips elsewhere, with the reason."""
    if in_ci():
        pytest.fail(f"required test server unavailable in CI: {reason}")
    pytest.skip(reason)


def migrated_sqlite(path: Path) -> Engine:
    """An engine on a migrated SQLite file at ``path``: for what only SQLite does."""
    url = f"sqlite:///{path}"
    upgrade(url)
    return make_engine(url)


def _pg_url(admin_url: str, dbname: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{dbname}"


def _answers(url: str) -> str | None:
    """None when ``url`` lets us in, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL on a PostgreSQL server that may create and drop databases."""
    if PG_SETTING and PG_SETTING != "throwaway":
        failure = _answers(PG_SETTING)
        if failure is not None:
            unavailable(f"PostgreSQL at {PG_SETTING} not reachable: {failure}")
        yield PG_SETTING
        return
    if not PG_SETTING and _answers(PG_DEFAULT) is None:
        yield PG_DEFAULT
        return
    try:
        cluster = start_cluster()
    except (ClusterError, OSError, subprocess.SubprocessError) as exc:
        unavailable(f"no PostgreSQL answers and none could be started: {exc}")
    try:
        yield cluster.url()
    finally:
        cluster.stop()


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
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` (each kind), disposed after the test."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A migrated, empty PostgreSQL database only: what replicas share."""
    name = create_pg_database(pg_server)
    url = _pg_url(pg_server, name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()
