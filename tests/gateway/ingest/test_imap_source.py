"""ImapSource against the real dev mail stack: the MailboxConfig goes to ImapConnection as is."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine
from sqlmodel import select

from deploy.mailstack import MailStack, MailUser
from gateway.config import MailboxConfig
from gateway.ingest.imap_source import ImapSource
from gateway.ingest.store import RawStore
from gateway.storage import repo
from gateway.storage.models import InboundMessage, MailboxCursor
from tests.support.database import migrated_sqlite
from tests.support.mail_rows import raw_of

# Fixtures (mail_stack, mail_user) come from tests.support.mailstack, registered as a
# plugin by the root conftest.


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = migrated_sqlite(tmp_path / "db.sqlite")
    try:
        yield made
    finally:
        made.dispose()


def mailbox(stack: MailStack, user: MailUser, tmp_path: Path, **kw: Any) -> MailboxConfig:
    secret = tmp_path / "imap-password"
    secret.write_text(user.password + "\n", encoding="utf-8")
    fields: dict[str, Any] = {
        "name": "orientation",
        "address": user.address,
        "programme": "signalement",
        "host": stack.host,
        "port": stack.imaps_port,
        "tls": "implicit",
        "ca_file": stack.ca_path,
        "username": user.login,
        "password_file": secret,
        "timeout": 10.0,
        "poll_interval": 0.2,
    }
    fields.update(kw)
    return MailboxConfig(**fields)


def message(token: str, to: str) -> bytes:
    return (
        f"From: dr.durand@medecin.test\r\nTo: {to}\r\nSubject: {token}\r\n"
        f"Message-ID: <{token}@medecin.test>\r\n\r\nbody {token}\r\n"
    ).encode()


def imap(stack: MailStack, user: MailUser) -> imaplib.IMAP4_SSL:
    ctx = ssl.create_default_context(cafile=str(stack.ca_path))
    conn = imaplib.IMAP4_SSL(stack.host, stack.imaps_port, ssl_context=ctx)
    conn.login(user.login, user.password)
    return conn


@pytest.mark.parametrize("idle", [True, False], ids=["IDLE", "poll"])
async def test_ingests_moves_and_logs_connected_once(
    mail_stack: MailStack, mail_user: MailUser, engine: Engine, tmp_path: Path, idle: bool
) -> None:
    raws = [message(f"m{i}", mail_user.address) for i in range(3)]
    with imap(mail_stack, mail_user) as conn:
        for raw in raws:
            assert conn.append("INBOX", None, None, raw)[0] == "OK"
    box = mailbox(mail_stack, mail_user, tmp_path, idle=idle)
    stored = asyncio.Event()
    source = ImapSource(box, RawStore(engine, on_stored=stored.set))
    stop = asyncio.Event()

    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(source.run(stop))
        await asyncio.wait_for(stored.wait(), 20)
        stop.set()  # the sync under way still moves what it committed
        await asyncio.wait_for(task, 20)

    connected = [entry for entry in logs if entry["event"] == "imap_connected"]
    assert len(connected) == 1
    assert connected[0]["mailbox"] == "orientation"
    assert connected[0]["idle"] is True  # Dovecot offers IDLE, whether used or not
    assert [e["mechanism"] for e in logs if e["event"] == "imap_authenticated"] == ["LOGIN"]
    assert "imap_disconnected" not in [entry["event"] for entry in logs]
    assert mail_user.password not in repr(logs)
    with repo.session_for(engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        cursor = session.get(MailboxCursor, "orientation")
        assert sorted(raw_of(session, r) for r in rows) == sorted(raws)
        assert {r.mailbox for r in rows} == {"orientation"}
        assert cursor is not None and cursor.connected is False  # marked on the way out
    with imap(mail_stack, mail_user) as conn:
        assert conn.select("INBOX", readonly=True)[1] == [b"0"]
        assert conn.select("Traites", readonly=True)[1] == [b"3"]


async def test_failed_login_retries_without_connected_event(
    mail_stack: MailStack, mail_user: MailUser, engine: Engine, tmp_path: Path
) -> None:
    bad = "wrong-" + uuid.uuid4().hex
    box = mailbox(mail_stack, mail_user, tmp_path, password=bad, password_file=None)
    source = ImapSource(box, RawStore(engine, on_stored=lambda: None))
    stop = asyncio.Event()

    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(source.run(stop))
        for _ in range(200):
            if any(entry["event"] == "imap_disconnected" for entry in logs):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 20)

    events = [entry["event"] for entry in logs]
    assert "imap_connected" not in events
    [failure] = [entry for entry in logs if entry["event"] == "imap_disconnected"]
    assert failure["error_type"] == "ImapError"
    assert "LOGIN failed" in failure["error"]
    assert bad not in repr(logs)
