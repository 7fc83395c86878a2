"""Outside systemd (umask 022), the SQLite files holding patient data are created 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.outbox.journal import SentJournal
from gateway.storage.db import make_engine, upgrade
from gateway.storage.instance_lock import InstanceLock


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    db = tmp_path / "state" / "aiguilleur.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        files = [db, db.with_name("aiguilleur.db-wal"), db.with_name("aiguilleur.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


def test_migrations_create_the_database_private(tmp_path: Path) -> None:
    db = tmp_path / "aiguilleur.db"
    upgrade(f"sqlite:///{db}")
    assert _mode(db) == 0o600


def test_an_existing_database_keeps_the_mode_its_operator_chose(tmp_path: Path) -> None:
    db = tmp_path / "aiguilleur.db"
    db.touch()
    db.chmod(0o640)
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert _mode(db) == 0o640


def test_the_lock_and_the_sent_journal_are_private(tmp_path: Path) -> None:
    db = tmp_path / "aiguilleur.db"
    lock = InstanceLock(db)
    lock.acquire()
    try:
        assert _mode(lock.path) == 0o600
    finally:
        lock.release()
    journal = SentJournal(db.with_name("aiguilleur.db.sent"))
    try:
        journal.add([1], "2028-01-01T00:00:00+00:00")
        files = [journal.path, journal.path.with_name("aiguilleur.db.sent-wal")]
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        journal.close()
