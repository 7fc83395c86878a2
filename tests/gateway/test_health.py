"""The health summary on replicas: a mailbox nobody holds fails; the holder is shown."""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.config import Config, parse_config
from gateway.health import readiness
from gateway.ingest.leases import MailboxLeases
from gateway.loops import LoopHealth
from gateway.storage.db import is_postgres


def _config() -> Config:
    boxes = [
        {"name": n, "address": f"{n}@cpts.test", "programme": "signalement", "host": "x"}
        for n in ("sig", "te")
    ]
    return parse_config({"mailboxes": boxes}, environ={})


def test_mailbox_leases_in_the_health_summary(db_engine: Engine) -> None:
    config = _config()
    before = {c.name: c for c in readiness(db_engine, config).checks}
    if not is_postgres(db_engine):
        # One daemon per SQLite database: no lease to hold, nothing to report.
        assert before["mailbox:sig"].detail == "never synced"
        assert all(m.holder is None for m in readiness(db_engine, config).mailboxes)
        return
    assert before["mailbox:sig"].detail == "no replica holds its lease"
    leases = MailboxLeases(db_engine, "replica-a", ["sig"], lease_seconds=60)
    leases.round()
    report = readiness(db_engine, config)
    sig = next(m for m in report.mailboxes if m.name == "sig")
    assert sig.holder == "replica-a" and sig.expires_in is not None and sig.expires_in > 30
    checks = {c.name: c for c in report.checks}
    assert checks["mailbox:sig"].detail == "never synced"  # held: judged on its sync again
    assert checks["mailbox:te"].detail == "no replica holds its lease"
    leases.leave()
    assert not {c.name: c for c in readiness(db_engine, config).checks}["mailbox:sig"].ok


def test_a_failing_loop_turns_readiness_red_and_says_which(db_engine: Engine) -> None:
    config = _config()
    loops = LoopHealth()
    assert not any(
        c.name.startswith("loop:") for c in readiness(db_engine, config, loops=loops).checks
    )
    loops.failed("outbox", ConnectionRefusedError())
    report = readiness(db_engine, config, loops=loops)
    check = {c.name: c for c in report.checks}["loop:outbox"]
    assert not check.ok and "ConnectionRefusedError (1 in a row)" in check.detail
    loops.ok("outbox")
    assert "loop:outbox" not in readiness(db_engine, config, loops=loops).failed()


def test_a_failing_loop_is_reported_even_when_the_database_does_not_answer() -> None:
    from sqlalchemy import create_engine

    loops = LoopHealth()
    loops.failed("pipeline_claim", TimeoutError())
    dead = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    report = readiness(dead, _config(), loops=loops)
    assert report.failed() == ["database", "loop:pipeline_claim"]
