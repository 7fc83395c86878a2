"""The health summary on replicas: a mailbox nobody holds fails; the holder is shown."""

from __future__ import annotations

from sqlalchemy import Engine

from gateway.config import Config, parse_config
from gateway.health import readiness
from gateway.ingest.leases import MailboxLeases
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
