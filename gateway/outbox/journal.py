"""The sent journal: a small SQLite file beside the database that records each 250 at once.

On SQLite the database has one writer at a time, and the pipeline's decide batches hold it for
0.1–0.5 s; a "sent" mark that waited for it would leave every mail sent meanwhile to go out again
after a crash. The journal has its own file and lock, so the mark is durable within one fsync;
the main database learns it a moment later, and before the outbox claims anything again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from gateway.storage.db import create_private

__all__ = ["SentJournal"]


class SentJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        create_private(path)  # 0600, like the database (its -wal and -shm follow)
        # Used from worker threads, one at a time (the lock): marks, folds and recovery.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a mark survives a power cut too, not only a killed process.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS sent (outbound_id INTEGER PRIMARY KEY, sent_at TEXT)"
            )

    def add(self, ids: Iterable[int], sent_at: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO sent (outbound_id, sent_at) VALUES (?, ?)",
            [(i, sent_at) for i in ids],
        )

    def entries(self) -> dict[int, str]:
        """What was sent and may not be in the database yet: outbound id → sent_at."""
        with self._lock:
            rows = self._conn.execute("SELECT outbound_id, sent_at FROM sent").fetchall()
        return {int(i): str(at) for i, at in rows}

    def remove(self, ids: Iterable[int]) -> None:
        """Forget marks the database now holds."""
        self._write("DELETE FROM sent WHERE outbound_id = ?", [(i,) for i in ids])

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        with self._lock:  # one transaction, so one fsync, per batch
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
