"""The databases a chaos run uses: a SQLite file, or a throwaway database on a PostgreSQL
server chosen as the test suite chooses it (tests/support/database.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psycopg

from bench.e2e import database as e2e_database
from tests.support.pg_cluster import Cluster, start_cluster

__all__ = ["PgServer", "database"]

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


class PgServer:
    """An admin URL, found on first use: ``AIGUILLEUR_TEST_PG`` when it is a URL; else the
    local server if it lets us in; else (or with ``throwaway``) a cluster of our own."""

    def __init__(self) -> None:
        self._cluster: Cluster | None = None
        self._url: str | None = None
        self.origin = ""

    def admin_url(self) -> str:
        if self._url is not None:
            return self._url
        setting = os.environ.get("AIGUILLEUR_TEST_PG", "").strip()
        if setting and setting != "throwaway":
            if not _answers(setting):
                raise RuntimeError("PostgreSQL named by AIGUILLEUR_TEST_PG does not answer")
            self._url, self.origin = setting, "AIGUILLEUR_TEST_PG"
        elif not setting and _answers(PG_DEFAULT):
            self._url, self.origin = PG_DEFAULT, "local server"
        else:
            self._cluster = start_cluster()
            self._url, self.origin = self._cluster.url(), "throwaway cluster"
        return self._url

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


def database(kind: str, workdir: Path, pg: PgServer) -> contextlib.AbstractContextManager[str]:
    """A migrated, empty database of ``kind``; a PostgreSQL one is dropped at the end."""
    return e2e_database(kind, workdir, admin=pg.admin_url, prefix="aig_chaos")
