"""Replicas starting together on one PostgreSQL database migrate it one at a time."""

from __future__ import annotations

from sqlalchemy import inspect

from gateway.storage.db import make_engine, upgrade
from tests.support.database import _pg_url, create_pg_database, drop_pg_database
from tests.support.threads import together


def test_three_simultaneous_upgrades_of_an_empty_database_all_succeed(pg_server: str) -> None:
    name = create_pg_database(pg_server)
    url = _pg_url(pg_server, name)
    try:
        assert together(3, lambda: upgrade(url)) == []
        engine = make_engine(url)
        try:
            assert {"inbound_message", "mailbox_lease"} <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
    finally:
        drop_pg_database(pg_server, name)
