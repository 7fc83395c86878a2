from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.outbox.journal import SentJournal


def test_marks_survive_a_reopen_and_can_be_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "aiguilleur.db.sent"
    journal = SentJournal(path)
    journal.add([3, 1], "2026-12-03T10:00:00+00:00")
    journal.add([1, 7], "2026-12-03T10:00:01+00:00")  # a mark written twice keeps its first time
    journal.close()  # as a killed process would leave it: committed, nothing else

    again = SentJournal(path)
    assert again.entries() == {
        1: "2026-12-03T10:00:00+00:00",
        3: "2026-12-03T10:00:00+00:00",
        7: "2026-12-03T10:00:01+00:00",
    }
    again.remove([1, 3])
    assert again.entries() == {7: "2026-12-03T10:00:01+00:00"}
    again.close()


def test_a_failed_batch_leaves_nothing_half_written(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "j.sent")
    with pytest.raises(sqlite3.Error):  # the second row cannot be written
        journal.add([1, object()], "t")  # type: ignore[list-item]
    assert journal.entries() == {}
    journal.add([2], "t")  # and the journal still works
    assert journal.entries() == {2: "t"}
    journal.close()
