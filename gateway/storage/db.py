"""Engine creation and migrations. SQLite (WAL) by default; PostgreSQL by URL."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "READ_ONLY",
    "WriterLock",
    "create_private",
    "error_line",
    "is_postgres",
    "make_engine",
    "normalise_url",
    "upgrade",
    "upgrade_apart",
    "writer_lock",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
READ_ONLY = "aiguilleur_read_only"  # execution option: a transaction that never writes


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator chose."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit survives power loss, which "committed before the server is touched" needs.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # The savepoint of each decided message journals every page it changes; on files, those
    # journals spilled past 64 KiB to temporary files (300 KB and 150 writes a request).
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


class WriterLock:
    """A first-come, first-served lock for the one SQLite writer.

    Fair, because the pipeline's decide loop releases and asks again at once: with a plain
    lock it would win every time and the outbox would wait for whole bursts before it could
    claim the replies they queued. Re-entrant for the thread that holds it (a second session
    opened inside a first, as SQLite itself allowed once the first had committed); any thread
    may release, since a connection can be returned to the pool from another thread.
    """

    def __init__(self, timeout: float) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()  # tickets whose holder timed out waiting
        self._timeout = timeout
        self._loop_batch: int | None = None  # see ``loop_batch``

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            if self._loop_batch == me:
                raise RuntimeError(
                    "the database's writer lock was asked for on an event loop's thread while "
                    "a decide batch of that loop holds or awaits it: make the call in a thread"
                )
            ticket = self._next_ticket
            self._next_ticket += 1
            if not self._cond.wait_for(
                lambda: self._owner is None and self._serving == ticket, timeout=self._timeout
            ):
                self._abandoned.add(ticket)
                self._skip_abandoned()
                raise TimeoutError(f"database write lock not obtained in {self._timeout:g} s")
            self._owner, self._depth = me, 1

    @contextmanager
    def loop_batch(self) -> Iterator[None]:
        """Marks the calling thread, an event loop's, as running a batch whose lock is taken
        and held from other threads. Asked for on this thread meanwhile, the lock would wait
        for the batch, which waits for the loop: it fails at once instead of in 30 s."""
        me = threading.get_ident()
        with self._cond:
            self._loop_batch = me
        try:
            yield
        finally:
            with self._cond:
                self._loop_batch = None

    def release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth <= 0:
                self._owner, self._depth = None, 0
                self._serving += 1
                self._skip_abandoned()

    def _skip_abandoned(self) -> None:
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> WriterLock | None:
    """The lock the SQLite ``engine``'s writers queue on (None on PostgreSQL)."""
    return _WRITER_LOCKS.get(engine)


def _serialise_writers(engine: Engine) -> None:
    """One writer at a time within the process, queued on a lock rather than on SQLite.

    pysqlite defers BEGIN; we take the write lock at BEGIN (IMMEDIATE) so that writers never
    fail on upgrade. SQLite lets a blocked writer retry on a sleep schedule (1, 2, 5, 10, ...
    ms), so threads of one daemon that queued there lost milliseconds per transaction; they
    now wait on a lock that wakes the next one as soon as the connection is returned. Other
    processes (the CLI) still queue on ``busy_timeout``.
    """
    lock = WriterLock(timeout=30.0)
    _WRITER_LOCKS[engine] = lock
    held = "aiguilleur_write_lock"

    def begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # deferred: a reader, never blocked by the writer
            return
        info = conn.connection.info  # the pooled connection's, as ``checkin`` sees it
        if not info.get(held):
            lock.acquire()
            info[held] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        if record.info.pop(held, False):
            lock.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "checkin", checkin)


def create_private(path: Path) -> None:
    """Create ``path``, empty and readable by its owner only (0600), unless it exists.

    An empty file is an empty SQLite database, and SQLite gives the ``-wal`` and ``-shm``
    files it creates beside a database the database's own mode: patient data is never left
    readable by every local user, whatever the umask (systemd's ``UMask=0077`` or not).
    An existing file keeps its mode: the operator may have chosen it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, its folder created; None in memory or for a URI."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        if path is not None:
            # At the first connection, as SQLite would, but private (an engine never used
            # creates nothing).
            event.listen(engine, "do_connect", lambda *_: create_private(path))
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_writers(engine)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def alembic_config(url: str) -> AlembicConfig:
    # Imported here: a running daemon never migrates, and alembic weighs ~10 MB resident.
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


# pg_advisory_lock key of schema migrations: replicas starting together migrate one by one.
MIGRATION_LOCK = 0x41494730


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    if not normalise_url(url).startswith("postgresql"):
        path = _sqlite_file(normalise_url(url))
        if path is not None:
            create_private(path)  # before alembic's engine would create it 0644
        command.upgrade(alembic_config(url), revision)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()


def error_line(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy's wrapper adds its SQL and a link)."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def upgrade_apart(url: str) -> str | None:
    """``upgrade`` in a process of its own; the first line of what went wrong, or None.

    For the daemon: importing Alembic and the migrations would hold about 13 MB in it for
    its whole life, for a few statements at start. A spawned interpreter, not a fork: a
    lock another thread holds at the fork would stay held in the child."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_upgrade_and_report, args=(url, sender), name="db-upgrade")
    child.start()
    sender.close()
    try:
        outcome: str | None = receiver.recv()
    except EOFError:
        outcome = f"the migration process ended with code {child.exitcode}"
    finally:
        child.join()
        receiver.close()
    return outcome


def _upgrade_and_report(url: str, report: multiprocessing.connection.Connection) -> None:
    try:
        upgrade(url)
    except Exception as exc:  # reported to the parent, which decides; never a traceback
        report.send(error_line(exc))
    else:
        report.send(None)
    finally:
        report.close()
