"""Two readers committing the same messages at once (a lease changing hands): stored once."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from gateway.storage import repo
from gateway.storage.models import InboundMessage
from gateway.storage.repo import IncomingRaw
from tests.support.threads import together


def _mail(uid: int) -> IncomingRaw:
    raw = f"Message-ID: <m{uid}@test>\r\nSubject: n{uid}\r\n\r\nbonjour\r\n".encode()
    return IncomingRaw(mailbox="sig", raw=raw, uidvalidity=7, uid=uid)


def test_the_same_uids_committed_by_eight_threads_are_stored_once(db_engine: Engine) -> None:
    batch = [_mail(uid) for uid in range(1, 26)]
    created: list[list[int]] = []

    def reader() -> None:
        with repo.session_for(db_engine) as session:
            ids = repo.store_inbound_batch(session, batch)
            session.commit()
        created.append(ids)

    assert together(8, reader) == []
    assert sorted(i for ids in created for i in ids) == sorted(set().union(*created))
    assert len(set().union(*created)) == 25  # each created once, by one of them
    with repo.session_for(db_engine) as session:
        rows = session.exec(select(InboundMessage)).all()
    assert sorted(r.uid or 0 for r in rows) == list(range(1, 26))
    assert {r.message_id for r in rows} == {f"<m{uid}@test>" for uid in range(1, 26)}
