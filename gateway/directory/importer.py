"""Streaming import of the Annuaire Santé extracts into the directory tables.

One pass over the file, in batches, upserting with ``INSERT … ON CONFLICT DO UPDATE``
(``gateway.directory.upsert``). Two ways to feed it:

- streamed (PostgreSQL, small files): lines are checked and bound through
  ``executemany`` in this process;
- staged (large files on SQLite): worker processes parse byte ranges into scratch
  files, merged here in file order (``gateway.directory.stage``).

Memory stays bounded by the batch and range sizes. Commits happen every few
hundred thousand rows, so the daemon's own writers are not held off for the
whole import; a crash leaves the directory as it was plus some refreshed rows,
and a re-run finishes the job, because nothing is deactivated until the whole
file has been read. Counts come from the batch columns, in one scan at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, insert, update

from gateway.directory.extract import (
    MSSANTE_COLUMNS,
    PERSONNE_ACTIVITE_COLUMNS,
    ExtractError,
    FileKind,
    column_indexes,
    detect_encoding,
    detect_kind,
    split_line,
)
from gateway.directory.lines import Tally, batches
from gateway.directory.rows import Reader, make_reader
from gateway.directory.stage import StageJob, split_ranges, stage_range
from gateway.directory.upsert import STAGE_SCHEMA, TableSql, table_sql
from gateway.storage.directory_models import DirectoryImport
from gateway.storage.models import utcnow
from gateway.wording import label, say

__all__ = ["ImportSummary", "check_file", "import_file"]

SNIFF_BYTES = 1 << 20
BATCH_ROWS = 10_000
COMMIT_EVERY = 200_000
PART_BYTES = 32 << 20  # one staged range: ~100,000 Personne_activite lines
PARALLEL_MIN_BYTES = 64 << 20
MAX_WORKERS = 4
# Below this share of the rows active before, the file looks truncated: keep them active.
MIN_SEEN_RATIO = 0.5


@dataclass
class ImportSummary:
    """What one import did. Counts and line numbers only: no personal data."""

    kind: str
    file_name: str
    encoding: str
    batch_id: int
    lines: int = 0  # data lines read (header and blank lines excluded)
    inserted: int = 0
    updated: int = 0  # changed or reactivated
    unchanged: int = 0
    duplicates: int = 0  # a key already seen earlier in the file: first line wins
    deactivated: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # by code (directory.rows)
    rejected_lines: dict[str, list[int]] = field(default_factory=dict)  # first few per reason
    reencoded_lines: int = 0  # UTF-8 file, but this line only decoded as latin-1
    deactivation_skipped: bool = False
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """What became of the lines; the names are DirectoryImport's columns."""
        return {
            name: getattr(self, name)
            for name in (
                "inserted",
                "updated",
                "unchanged",
                "duplicates",
                "deactivated",
                "rejected",
            )
        }

    def lines_fr(self) -> list[str]:
        """The summary as printed by the command, in French."""
        details = [
            say(
                "directory.summary.counts",
                inserted=self.inserted,
                updated=self.updated,
                unchanged=self.unchanged,
                duplicates=self.duplicates,
                deactivated=self.deactivated,
                rejected=self.rejected,
            )
        ]
        for reason, count in sorted(self.reasons.items(), key=lambda kv: -kv[1]):
            examples = ", ".join(str(n) for n in self.rejected_lines.get(reason, []))
            details.append(
                say(
                    "directory.summary.rejected",
                    reason=label("directory.reason", reason, reason),
                    count=count,
                    examples=examples,
                )
            )
        if self.reencoded_lines:
            details.append(say("directory.summary.reencoded", count=self.reencoded_lines))
        if self.deactivation_skipped:
            details.append(say("directory.summary.deactivation_skipped"))
        details.append(say("directory.summary.duration", seconds=self.seconds))
        heading = say(
            "directory.summary.file",
            file=self.file_name,
            kind=self.kind,
            encoding=self.encoding,
            lines=self.lines,
        )
        return [heading, *("  " + line for line in details)]


def import_file(
    engine: Engine,
    path: Path,
    *,
    progress: bool = False,
    console: Console | None = None,
    workers: int | None = None,
    batch_rows: int = BATCH_ROWS,
    commit_every: int = COMMIT_EVERY,
    part_bytes: int = PART_BYTES,
) -> ImportSummary:
    """Import one extract (kind detected from its header, else its name).

    ``workers``: processes that parse for the staged path (SQLite only); ``None``
    picks one per core for files over ``PARALLEL_MIN_BYTES``, ``0`` streams.
    Raises ``OSError`` when the file cannot be read and ``ExtractError`` when it
    is empty, of an unknown kind or lacks a column.
    """
    started = time.perf_counter()
    header, encoding, data_start = _read_header(path)
    kind, indexes = _columns(header, path)
    with engine.connect() as conn, _progress_bar(progress, console) as bar:
        now = utcnow()
        with conn.begin():
            inserted = conn.execute(
                insert(DirectoryImport).values(
                    kind=kind.value, file_name=path.name[:255], encoding=encoding, started_at=now
                )
            ).inserted_primary_key
        assert inserted is not None
        summary = ImportSummary(kind.value, path.name, encoding, int(inserted[0]))
        sql = table_sql(kind, conn.dialect.name, summary.batch_id, now)
        with conn.begin():
            active_before = _row(conn, sql.active)[0]
        task = bar.add_task(path.name, total=path.stat().st_size) if bar is not None else None

        def advance(position: int) -> None:
            if bar is not None and task is not None:
                bar.update(task, completed=position)

        workers = _workers(conn, path, workers)
        tally = Tally()
        if workers:
            jobs = [
                StageJob(str(path), start, end, encoding, kind, len(header), indexes,
                         batch_rows, scratch="")
                for start, end in split_ranges(path, data_start, part_bytes)
            ]  # fmt: skip
            accepted = _staged(conn, sql, jobs, workers, tally, advance)
        else:
            reader = make_reader(kind, len(header), indexes)
            accepted = _streamed(
                conn, sql, path, data_start, reader, encoding, batch_rows, commit_every, tally,
                advance,
            )  # fmt: skip
        summary.lines = tally.lines
        summary.reencoded_lines = tally.reencoded
        summary.reasons = dict(tally.reasons)
        summary.rejected_lines = tally.examples
        summary.rejected = sum(tally.reasons.values())
        with conn.begin():
            _finish(conn, sql, summary, accepted, tally.duplicates, active_before)
            conn.execute(
                update(DirectoryImport)
                .where(DirectoryImport.id == summary.batch_id)  # type: ignore[arg-type]
                .values(finished_at=utcnow(), lines=summary.lines, **summary.counts())
            )
    summary.seconds = time.perf_counter() - started
    return summary


def check_file(path: Path) -> FileKind:
    """The extract's kind, after reading its header; raises as ``import_file`` does."""
    header, _encoding, _start = _read_header(path)
    return _columns(header, path)[0]


def _columns(header: list[str], path: Path) -> tuple[FileKind, tuple[int, ...]]:
    kind = detect_kind(header, path.name)
    specs = PERSONNE_ACTIVITE_COLUMNS if kind is FileKind.PERSONNE_ACTIVITE else MSSANTE_COLUMNS
    return kind, column_indexes(header, specs)


def _read_header(path: Path) -> tuple[list[str], str, int]:
    """The header's names, the file's encoding and where the data starts."""
    with path.open("rb") as f:
        encoding = detect_encoding(f.read(SNIFF_BYTES))
        f.seek(0)
        first = f.readline()
        if not first.strip():
            raise ExtractError(say("directory.error.empty_file"))
        try:
            text = first.decode(encoding)
        except UnicodeDecodeError:
            text = first.decode("latin-1")
        return split_line(text.lstrip("\ufeff")), encoding, f.tell()


def _workers(conn: Connection, path: Path, wanted: int | None) -> int:
    if conn.dialect.name != "sqlite":
        return 0
    if wanted is None:
        if path.stat().st_size < PARALLEL_MIN_BYTES:
            return 0
        return max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    return max(0, wanted)


def _streamed(
    conn: Connection,
    sql: TableSql,
    path: Path,
    data_start: int,
    reader: Reader,
    encoding: str,
    batch_rows: int,
    commit_every: int,
    tally: Tally,
    advance: Callable[[int], None],
) -> int:
    """Parse and upsert in this process; returns the rows written."""
    part = Tally()
    accepted = since_commit = 0
    with path.open("rb", buffering=1 << 20) as raw:
        raw.seek(data_start)
        conn.begin()
        for rows, position in batches(raw, reader, encoding, batch_rows, part):
            _executemany(conn, sql.upsert, rows)
            accepted += len(rows)
            since_commit += len(rows)
            if since_commit >= commit_every:
                conn.commit()
                conn.begin()
                since_commit = 0
            advance(position)
        conn.commit()
    tally.add(part, line_offset=1)  # the header is line 1
    return accepted


def _staged(
    conn: Connection,
    sql: TableSql,
    jobs: list[StageJob],
    workers: int,
    tally: Tally,
    advance: Callable[[int], None],
) -> int:
    """Workers stage the ranges; each is merged here, in file order, as soon as it is
    ready, one transaction per range. Returns the rows written."""
    accepted = 0
    line_offset = 1  # the header is line 1
    # spawn, not fork: the parent holds database connections and maybe threads.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        with tempfile.TemporaryDirectory(prefix="aiguilleur-directory-") as tmp:
            jobs = [
                replace(j, scratch=str(Path(tmp) / f"part{i:05d}.db")) for i, j in enumerate(jobs)
            ]
            for result in pool.map(stage_range, jobs):
                dbapi = _dbapi(conn)
                dbapi.execute(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", (result.scratch,))
                try:
                    with conn.begin():
                        _executemany(conn, sql.merge, [()])
                finally:
                    dbapi.execute(f"DETACH DATABASE {STAGE_SCHEMA}")
                Path(result.scratch).unlink()
                accepted += result.rows
                tally.add(result.tally, line_offset)
                line_offset += result.tally.physical
                advance(result.end)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return accepted


def _finish(
    conn: Connection,
    sql: TableSql,
    summary: ImportSummary,
    accepted: int,
    in_batch_duplicates: int,
    active_before: int,
) -> None:
    created, changed, seen = _row(conn, sql.counts)
    summary.inserted = created
    summary.updated = changed - created
    summary.unchanged = seen - changed
    # Rows of a key already written by an earlier batch changed nothing: duplicates too.
    summary.duplicates = in_batch_duplicates + accepted - seen
    if seen == 0 or seen < MIN_SEEN_RATIO * active_before:
        summary.deactivation_skipped = active_before > 0
        return
    summary.deactivated = _executemany(conn, sql.deactivate, [()])


def _dbapi(conn: Connection) -> Any:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi


def _cursor(conn: Connection) -> Any:
    return _dbapi(conn).cursor()


def _executemany(conn: Connection, statement: str, rows: list[tuple[Any, ...]]) -> int:
    cur = _cursor(conn)
    try:
        cur.executemany(statement, rows)
        return int(cur.rowcount)
    finally:
        cur.close()


def _row(conn: Connection, statement: str, params: tuple[Any, ...] = ()) -> tuple[int, ...]:
    cur = _cursor(conn)
    try:
        cur.execute(statement, params)
        return tuple(int(v) for v in cur.fetchone())
    finally:
        cur.close()


def _progress_bar(
    enabled: bool, console: Console | None
) -> AbstractContextManager[Progress | None]:
    if not enabled:
        return nullcontext(None)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
