"""Two readers committing the same messages at once (a lease changing hands): stored once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import InboundMessage
from gateway.storage.repo import IncomingRaw


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _mail(uid: int) -> IncomingRaw:
    raw = f"Message-ID: <m{uid}@test>\\r\\nSubject: n{uid}\\r\\n\\r\\nbonjour\\r\\n".encode()
    return IncomingRaw(mailbox="sig", raw=raw, uidvalidity=7, uid=uid)


def test_the_same_uids_committed_by_eight_threads_are_stored_once(engine: Engine) -> None:
    batch = [_mail(uid) for uid in range(1, 26)]
    created: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def reader() -> None:
        start.wait()
        try:
            with repo.session_for(engine) as session:
                ids = repo.store_inbound_batch(session, batch)
                session.commit()
            created.append(ids)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(i for ids in created for i in ids) == sorted(set().union(*created))
    assert len(set().union(*created)) == 25  # each created once, by one of them
    with repo.session_for(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
    assert sorted(r.uid or 0 for r in rows) == list(range(1, 26))
