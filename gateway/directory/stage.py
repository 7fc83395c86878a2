"""Parallel staging for large SQLite imports: worker processes parse byte ranges of the
extract into scratch SQLite files that the importer then merges in file order.

Why: on SQLite the import is bounded by Python work (splitting lines, binding
parameters), not by the database. Workers do that work on other cores, into
scratch files with no journal; the merge is one ``INSERT … SELECT`` per range,
in C. The scratch files are not the daemon's database, so skipping their
journal risks nothing: a crash only loses the scratch files.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.directory.extract import FileKind
from gateway.directory.lines import Tally, batches
from gateway.directory.rows import make_reader

__all__ = ["STAGE_TABLE", "StageJob", "StageResult", "split_ranges", "stage_range"]

STAGE_TABLE = "stage"


@dataclass(frozen=True)
class StageJob:
    """One byte range of the extract to parse; picklable, sent to a worker."""

    path: str
    start: int
    end: int
    encoding: str
    kind: FileKind
    width: int
    indexes: tuple[int, ...]
    batch_rows: int
    scratch: str  # SQLite file to create


@dataclass(frozen=True)
class StageResult:
    scratch: str
    rows: int
    tally: Tally
    end: int


def split_ranges(path: Path, start: int, part_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges from ``start`` to the end of the file, each ending after a line end."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as f:
        begin = start
        while begin < size:
            f.seek(min(begin + part_bytes, size))
            f.readline()  # to the end of the line the cut fell in
            end = min(f.tell(), size)
            ranges.append((begin, end))
            begin = end
    return ranges


def stage_range(job: StageJob) -> StageResult:
    """Parse ``job``'s range into a fresh scratch table, in file order."""
    with open(job.path, "rb") as f:
        f.seek(job.start)
        data = io.BytesIO(f.read(job.end - job.start))
    reader = make_reader(job.kind, job.width, job.indexes)
    tally = Tally()
    width = len(job.indexes)
    conn = sqlite3.connect(job.scratch, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        columns = ", ".join(f"c{i}" for i in range(width))
        conn.execute(f"CREATE TABLE {STAGE_TABLE} ({columns})")
        insert = f"INSERT INTO {STAGE_TABLE} VALUES ({', '.join('?' * width)})"
        rows = 0
        conn.execute("BEGIN")
        for batch, _position in batches(data, reader, job.encoding, job.batch_rows, tally):
            conn.executemany(insert, batch)
            rows += len(batch)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return StageResult(job.scratch, rows, tally, job.end)
