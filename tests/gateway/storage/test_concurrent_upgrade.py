"""Replicas starting together on one PostgreSQL database migrate it one at a time."""

from __future__ import annotations

import threading

from sqlalchemy import inspect

from gateway.storage.db import make_engine, upgrade
from tests.support.database import _pg_url, create_pg_database, drop_pg_database


def test_three_simultaneous_upgrades_of_an_empty_database_all_succeed(pg_server: str) -> None:
    name = create_pg_database(pg_server)
    url = _pg_url(pg_server, name)
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def migrate() -> None:
        start.wait()
        try:
            upgrade(url)
        except BaseException as exc:  # each replica's own failure, reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=migrate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        engine = make_engine(url)
        try:
            assert {"inbound_message", "mailbox_lease"} <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
    finally:
        drop_pg_database(pg_server, name)
