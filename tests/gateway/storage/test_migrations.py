"""The migrations, run to head, build exactly the schema the models declare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, Table, inspect, text
from sqlmodel import SQLModel

import gateway.storage.directory_models
import gateway.storage.lease_models
import gateway.storage.models
import gateway.storage.web_models  # noqa: F401  (registers the tables)
from gateway.storage.db import alembic_config, make_engine, upgrade, upgrade_apart
from gateway.storage.models import utcnow
from tests.support.migrations import downgrade_then_upgrade, schema_diffs

WEB_TABLES = {"web_user", "web_session", "login_attempt", "case_note", "audit_log"}


def test_head_matches_every_model(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert schema_diffs(engine, SQLModel.metadata) == []
        names = {ix["name"] for ix in inspect(engine).get_indexes("cases")}
        assert {"ix_cases_opened_id", "ix_cases_status_opened"} <= names
    finally:
        engine.dispose()


def test_web_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    assert downgrade_then_upgrade(db_url, "0003", WEB_TABLES) == (set(), set())


def test_delivery_report_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    """0006 adds the DSN columns to outbound_message: gone after a downgrade, back after."""

    def columns() -> set[str]:
        engine = make_engine(db_url)
        try:
            return {c["name"] for c in inspect(engine).get_columns("outbound_message")}
        finally:
            engine.dispose()

    dsn = {"bounced_at", "dsn_status", "dsn_diagnostic"}
    assert dsn <= columns()
    command.downgrade(alembic_config(db_url), "0005")
    assert dsn & columns() == set()
    upgrade(db_url)
    assert dsn <= columns()


def test_the_daemon_migrates_in_a_process_of_its_own(tmp_path: Path) -> None:
    # Alembic and the migrations stay out of the daemon, which would hold them for its life.
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = (
        "import sys; from gateway.storage.db import upgrade_apart; "
        f"error = upgrade_apart({url!r}); print(error, 'alembic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.split() == ["None", "False"]
    engine = make_engine(url)
    try:
        assert schema_diffs(engine, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_a_migration_apart_reports_what_went_wrong_in_one_line() -> None:
    error = upgrade_apart("postgresql://nobody@127.0.0.1:1/none")
    assert error is not None and "\n" not in error
    assert "127.0.0.1" in error or "refused" in error.lower()


def test_0009_moves_the_bytes_apart_and_back(db_url: str) -> None:
    """Each mail's bytes go to a table of their own, with a reply still pointing at the
    request it answers; a downgrade puts them back in the mails' rows."""
    command.downgrade(alembic_config(db_url), "0008")
    engine = make_engine(db_url)
    now = utcnow()
    try:
        with engine.begin() as conn:
            meta = MetaData()
            inbound = Table("inbound_message", meta, autoload_with=conn)
            outbound = Table("outbound_message", meta, autoload_with=conn)
            inbound_id = conn.execute(
                inbound.insert().returning(inbound.c.id),
                {
                    "mailbox": "sig",
                    "content_sha256": "0" * 64,
                    "size": 7,
                    "raw": b"request",
                    "status": "processed",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "received_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            conn.execute(
                outbound.insert(),
                {
                    "inbound_id": inbound_id,
                    "cause_key": "ack",
                    "kind": "ack",
                    "recipient": "a@b.test",
                    "message_id": "<m@x>",
                    "subject": "s",
                    "raw": b"reply",
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
        upgrade(db_url)
        assert "raw" not in {c["name"] for c in inspect(engine).get_columns("inbound_message")}
        with engine.connect() as conn:
            moved = conn.execute(text("SELECT inbound_id, raw FROM inbound_raw")).all()
            replies = conn.execute(
                text(
                    "SELECT o.inbound_id, r.raw FROM outbound_message AS o"
                    " JOIN outbound_raw AS r ON r.outbound_id = o.id"
                )
            ).all()
        assert [tuple(row) for row in moved] == [(inbound_id, b"request")]
        assert [tuple(row) for row in replies] == [(inbound_id, b"reply")]

        command.downgrade(alembic_config(db_url), "0008")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT raw FROM inbound_message")).scalars().all()
            back_out = conn.execute(text("SELECT raw FROM outbound_message")).scalars().all()
        assert (back, back_out) == ([b"request"], [b"reply"])
        assert "inbound_raw" not in inspect(engine).get_table_names()
    finally:
        upgrade(db_url)
        engine.dispose()
