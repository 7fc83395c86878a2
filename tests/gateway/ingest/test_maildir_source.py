from __future__ import annotations

from pathlib import Path

from gateway.config import MailboxConfig
from gateway.ingest.maildir_source import MaildirSource
from gateway.ingest.store import RawStore
from gateway.storage import repo
from gateway.storage.models import InboundMessage
from tests.support.database import migrated_sqlite


async def test_commits_then_moves_and_never_duplicates(tmp_path: Path) -> None:
    engine = migrated_sqlite(tmp_path / "db.sqlite")
    woken: list[int] = []
    store = RawStore(engine, on_stored=lambda: woken.append(1))
    box = MailboxConfig(
        name="drop",
        kind="maildir",
        address="drop@cpts.test",
        programme="signalement",
        maildir_path=tmp_path / "drop",
    )
    source = MaildirSource(box, store)
    for i in range(3):
        (tmp_path / "drop" / "new" / f"{i}.msg").write_bytes(
            f"Message-ID: <{i}@x>\r\n\r\nbody {i}\r\n".encode()
        )
    assert await source.sync_once() == 3
    assert list((tmp_path / "drop" / "new").iterdir()) == []
    moved = sorted(p.name for p in (tmp_path / "drop" / ".Traites" / "cur").iterdir())
    assert moved == ["0.msg", "1.msg", "2.msg"]
    # A file committed but not moved (crash between the two) is moved again, not stored again.
    (tmp_path / "drop" / ".Traites" / "cur" / "1.msg").rename(tmp_path / "drop" / "cur" / "1.msg")
    assert await source.sync_once() == 1
    with repo.session_for(engine) as s:
        from sqlmodel import select

        rows = s.exec(select(InboundMessage)).all()
    assert len(rows) == 3 and woken == [1]
    engine.dispose()
