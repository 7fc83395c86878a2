"""The migrations, run to head, build exactly the schema the models declare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import inspect
from sqlmodel import SQLModel

import gateway.storage.directory_models
import gateway.storage.lease_models
import gateway.storage.models
import gateway.storage.web_models  # noqa: F401  (registers the tables)
from gateway.storage.db import alembic_config, make_engine, upgrade, upgrade_apart
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
