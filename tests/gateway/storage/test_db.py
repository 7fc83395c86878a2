"""SQLite connections as the daemon opens them."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.storage.db import make_engine


def _open_temp_files() -> list[str]:
    """SQLite's temporary files this process holds open (unlinked at once, named etilqs_*)."""
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile
            continue
    return [link for link in links if "etilqs_" in link]


def test_the_journals_of_savepoints_stay_in_memory(tmp_path: Path) -> None:
    """Each decided message has its savepoint, and rewrites a row holding the message's bytes:
    on files, the pages it journals spilled past 64 KiB to a temporary file each batch."""
    engine = make_engine(f"sqlite:///{tmp_path / 'journal.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, raw BLOB, n INTEGER)")
            conn.exec_driver_sql("INSERT INTO t (raw, n) VALUES (?, 0)", (b"x" * 300_000,))
        with engine.connect() as conn, conn.begin():
            for _ in range(3):
                with conn.begin_nested():
                    conn.exec_driver_sql("UPDATE t SET n = n + 1")
            held = _open_temp_files()
            assert conn.exec_driver_sql("SELECT n FROM t").scalar_one() == 3
        assert held == []
    finally:
        engine.dispose()


def test_connections_are_durable_and_checked(tmp_path: Path) -> None:
    """WAL with a full sync at each commit, foreign keys enforced, memory for temporaries."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                for name in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "temp_store",
                    "busy_timeout",
                )
            }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 2,
            "foreign_keys": 1,
            "temp_store": 2,
            "busy_timeout": 30000,
        }
    finally:
        engine.dispose()
