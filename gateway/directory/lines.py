"""From a stream of extract lines to batches of rows: decoding, splitting, in-batch dedupe.

Shared by the in-process import and the staging workers. The loop in ``batches``
is the hot path of a two-million-line import, so it stays flat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from gateway.directory.extract import SEPARATOR, split_line
from gateway.directory.rows import REASON_COLUMNS, Reader, Row

__all__ = ["EXAMPLES_PER_REASON", "Tally", "batches"]

EXAMPLES_PER_REASON = 5


@dataclass
class Tally:
    """What reading counted. Line numbers count from the first line read (1)."""

    physical: int = 0  # every line, blank ones included
    lines: int = 0  # non-blank lines
    duplicates: int = 0  # in-batch only; the importer adds those across batches
    reencoded: int = 0  # UTF-8 file, but this line only decoded as latin-1
    reasons: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)

    def reject(self, reason: str, number: int) -> None:
        self.reasons[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < EXAMPLES_PER_REASON:
            examples.append(number)

    def add(self, other: Tally, line_offset: int) -> None:
        """Fold in the tally of the next part of the file, which starts after
        ``line_offset`` lines."""
        self.physical += other.physical
        self.lines += other.lines
        self.duplicates += other.duplicates
        self.reencoded += other.reencoded
        self.reasons.update(other.reasons)
        for reason, numbers in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(n + line_offset for n in numbers[: EXAMPLES_PER_REASON - len(mine)])


def batches(
    raw: IO[bytes], reader: Reader, encoding: str, size: int, tally: Tally
) -> Iterator[tuple[list[Row], int]]:
    """Accepted rows in batches of up to ``size``, each with the stream position after
    it. A key seen earlier in the same batch is dropped: the first line wins."""
    batch: dict[tuple[str, ...], Row] = {}
    number = 0
    # A well-formed line splits into its fields plus the line end after the trailing "|".
    expected = reader.width + 1
    pick, check = reader.pick, reader.check
    for line in raw:
        number += 1
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            text = line.decode("latin-1")
            tally.reencoded += 1
        fields = text.split(SEPARATOR)
        if len(fields) != expected or fields[-1].strip():
            if not text.strip():
                continue
            fields = split_line(text)  # a missing trailing "|" is tolerated,
            if len(fields) != reader.width:  # even before an empty last field
                fields = text.rstrip("\r\n").split(SEPARATOR)
            if len(fields) != reader.width:
                tally.lines += 1
                tally.reject(REASON_COLUMNS, number)
                continue
        tally.lines += 1
        result = check(pick(fields))
        if isinstance(result, str):
            tally.reject(result, number)
            continue
        key, row = result
        if key in batch:
            tally.duplicates += 1
            continue
        batch[key] = row
        if len(batch) >= size:
            yield list(batch.values()), raw.tell()
            batch = {}
    tally.physical += number
    if batch:
        yield list(batch.values()), raw.tell()
