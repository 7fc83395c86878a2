"""One daemon per SQLite database: a second one refuses to start.

Two daemons on one SQLite file would read the same mailboxes and send the same replies
twice; SQLite has no leases to share the work, so the second is refused with the first
one's pid. The lock is ``flock`` on ``<database>.lock``, released by the kernel when the
process ends, however it ends: a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from gateway.errors import GatewayError

__all__ = ["InstanceLock", "InstanceRunningError", "sqlite_path"]


class InstanceRunningError(GatewayError):
    """Another daemon already runs on this SQLite database."""


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


class InstanceLock:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise InstanceRunningError(
                f"another aiguilleur daemon (pid {holder}) is running on {self.path.stem}; "
                "SQLite allows one daemon per database (use PostgreSQL for several replicas)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing drops the flock
            self._fd = None
