"""The suite's own PostgreSQL, for a machine where none answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.support.pg_cluster import start_cluster

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_cluster_starts_on_a_free_port_and_leaves_nothing_behind() -> None:
    cluster = start_cluster()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE scratch")
        with psycopg.connect(cluster.url("scratch")) as conn:
            conn.execute("CREATE TABLE t (n int)")
            conn.execute("INSERT INTO t VALUES (42)")
            row = conn.execute("SELECT n FROM t").fetchone()
        assert row == (42,)
        assert _listening(cluster.port)
    finally:
        cluster.stop()
    assert not _listening(cluster.port)
    assert not cluster.datadir.exists()


def test_the_postgresql_half_of_the_suite_runs_on_its_own_cluster() -> None:
    # What `make test` does when nothing listens: the storage tests' PostgreSQL cases run
    # (in CI mode, where an unreachable server fails instead of skipping).
    env = {**os.environ, "AIGUILLEUR_TEST_PG": "throwaway", "CI": "true"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgresql",
            "tests/gateway/storage/test_repo.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 5, summary
    assert "skipped" not in summary and "error" not in summary, summary
    assert not list(Path("/tmp").glob("aiguilleur-pg-*/data/postmaster.pid"))
