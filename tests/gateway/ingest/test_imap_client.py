"""ImapConnection against the real dev mail stack (wire helpers: test_imap_wire.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import imaplib
import os
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aioimaplib
import pytest
import structlog
import trustme
from pydantic import ValidationError

from deploy.mailstack import MailStack, MailUser
from gateway.config import TlsMode, TlsSettings
from gateway.errors import ConfigError, ImapError
from gateway.ingest.imap_client import ImapConnection
from gateway.ingest.imap_wire import format_uid_set
from gateway.tls import build_ssl_context

# Fixtures (mail_stack, mail_user, ...) come from tests.support.mailstack, registered
# as a plugin by the root conftest.
from tests.support.mailstack import send_raw_mail, wait_for_messages

SENDER = "dr.durand@medecin.test"


def settings(stack: MailStack, user: MailUser, tls: TlsMode = "implicit", **kw: Any) -> TlsSettings:
    port = stack.imaps_port if tls == "implicit" else stack.imap_port
    fields: dict[str, Any] = {
        "ca_file": stack.ca_path,
        "username": user.login,
        "password": user.password,
        "timeout": 10.0,
    }
    fields.update(kw)
    return TlsSettings(host=stack.host, port=port, tls=tls, **fields)


@pytest.fixture
async def conn(mail_stack: MailStack, mail_user: MailUser) -> AsyncIterator[ImapConnection]:
    c = ImapConnection(settings(mail_stack, mail_user))
    await c.connect()
    try:
        yield c
    finally:
        await c.logout()


def raw_message(token: str, to: str, extra: bytes = b"") -> bytes:
    """A CRLF message with an 8-bit part, a base64 binary part and literal-like lines."""
    eight_bit = bytes(b for b in range(1, 256) if b not in (10, 13))
    binary = os.urandom(3000)
    b64 = base64.encodebytes(binary).replace(b"\n", b"\r\n")
    return b"".join(
        [
            f"From: {SENDER}\r\nTo: {to}\r\nSubject: =?utf-8?q?Orientation_{token}?=\r\n".encode(),
            f"Message-ID: <{token}@medecin.test>\r\n".encode(),
            b"Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n",
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BND\r\n\r\n",
            b"--BND\r\nContent-Type: text/plain; charset=latin-1\r\n",
            b"Content-Transfer-Encoding: 8bit\r\n\r\n",
            "Patient née le 01/02/1950, à orienter ".encode("latin-1"),
            token.encode(),
            b"\r\n",
            eight_bit[:500],
            b"\r\nA line that ends like a literal {12}\r\n)\r\n* 3 FETCH (UID 9)\r\n",
            extra,
            b"--BND\r\nContent-Type: application/octet-stream; name=scan.bin\r\n",
            b"Content-Transfer-Encoding: base64\r\n\r\n",
            b64,
            b"--BND--\r\n",
        ]
    )


def append(stack: MailStack, user: MailUser, messages: list[bytes], folder: str = "INBOX") -> None:
    ctx = ssl.create_default_context(cafile=str(stack.ca_path))
    with imaplib.IMAP4_SSL(stack.host, stack.imaps_port, ssl_context=ctx) as imap:
        imap.login(user.login, user.password)
        for msg in messages:
            typ, _ = imap.append(folder, None, None, msg)
            assert typ == "OK"


def spy_commands(monkeypatch: pytest.MonkeyPatch, c: ImapConnection) -> list[str]:
    """Record command lines sent to the server (tag dropped)."""
    sent: list[str] = []
    protocol = c._protocol
    original = protocol.send

    def send(line: str, scrub: str | None = None) -> None:
        sent.append(line.split(" ", 1)[-1])
        original(line, scrub=scrub)

    monkeypatch.setattr(protocol, "send", send)
    return sent


# ---------------------------------------------------------------- connecting


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
async def test_connects_with_verified_tls_and_logs_in(
    mail_stack: MailStack, mail_user: MailUser, tls: TlsMode
) -> None:
    c = ImapConnection(settings(mail_stack, mail_user, tls))
    await c.connect()
    try:
        assert c.is_encrypted
        assert {"IMAP4REV1", "IDLE", "MOVE", "UIDPLUS"} <= c.capabilities
        assert "STARTTLS" not in c.capabilities  # post-TLS, post-login capability list
        assert c.supports_idle
        folder = await c.select("INBOX")
        assert folder.uidvalidity > 0
        assert folder.exists == 0
        assert folder.uidnext == 1
    finally:
        await c.logout()


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
async def test_certificate_from_another_ca_is_rejected(
    mail_stack: MailStack, mail_user: MailUser, tls: TlsMode, tmp_path: Path
) -> None:
    wrong_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(wrong_ca))
    c = ImapConnection(settings(mail_stack, mail_user, tls, ca_file=wrong_ca))
    with pytest.raises(ImapError, match="CERTIFICATE_VERIFY_FAILED"):
        await c.connect()
    await c.logout()


async def test_verify_false_must_be_explicit(mail_stack: MailStack, mail_user: MailUser) -> None:
    c = ImapConnection(settings(mail_stack, mail_user, ca_file=None, tls_verify=False))
    await c.connect()
    await c.logout()
    # Without ca_file and without tls_verify = false, the test CA is unknown: refused.
    c = ImapConnection(settings(mail_stack, mail_user, ca_file=None))
    with pytest.raises(ImapError, match="CERTIFICATE_VERIFY_FAILED"):
        await c.connect()
    await c.logout()
    ctx = build_ssl_context(settings(mail_stack, mail_user))
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


async def test_refuses_to_send_credentials_in_clear(
    mail_stack: MailStack, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_starttls(self: ImapConnection, ctx: ssl.SSLContext) -> None:
        return None

    monkeypatch.setattr(ImapConnection, "_starttls", no_starttls)
    c = ImapConnection(settings(mail_stack, mail_user, "starttls"))
    with pytest.raises(ImapError, match="unencrypted"):
        await c.connect()
    await c.logout()


async def test_plain_connection_only_when_asked(mail_stack: MailStack, mail_user: MailUser) -> None:
    c = ImapConnection(settings(mail_stack, mail_user, "none"))
    await c.connect()
    try:
        assert not c.is_encrypted
        await c.noop()
    finally:
        await c.logout()


async def test_wrong_password_raises_without_echoing_it(
    mail_stack: MailStack, mail_user: MailUser
) -> None:
    bad = "wrong-" + uuid.uuid4().hex
    c = ImapConnection(settings(mail_stack, mail_user, password=bad))
    with pytest.raises(ImapError, match="LOGIN failed") as caught:
        await c.connect()
    assert bad not in str(caught.value)
    await c.logout()


def test_client_certificate_context_loads(
    mail_stack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    cert, key = mail_stack.issue_client_cert("bot@cpts.test")
    ctx = build_ssl_context(settings(mail_stack, mail_user, client_cert=cert, client_key=key))
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    with pytest.raises(ConfigError, match="client_cert"):
        build_ssl_context(settings(mail_stack, mail_user, client_cert=cert, client_key=cert))
    # One PEM with certificate and key: client_key may be left out.
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    build_ssl_context(settings(mail_stack, mail_user, client_cert=both))
    with pytest.raises(ConfigError, match="client_cert"):
        build_ssl_context(settings(mail_stack, mail_user, client_cert=cert))  # key missing
    with pytest.raises(ValidationError, match="client_key is set but client_cert is not"):
        settings(mail_stack, mail_user, client_key=key)


async def test_unloadable_ca_file_is_a_config_error(
    mail_stack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    c = ImapConnection(settings(mail_stack, mail_user, ca_file=garbage))
    with pytest.raises(ConfigError, match="ca_file cannot be loaded"):
        await c.connect()
    await c.logout()
    c = ImapConnection(settings(mail_stack, mail_user, "none", ca_file=garbage))
    await c.connect()  # no TLS, no context: the CA file is not read
    await c.logout()


async def test_login_with_client_cert_presented(mail_stack: MailStack, mail_user: MailUser) -> None:
    cert, key = mail_stack.issue_client_cert("bot2@cpts.test")
    c = ImapConnection(settings(mail_stack, mail_user, client_cert=cert, client_key=key))
    await c.connect()
    await c.logout()


async def test_external_auth_needs_server_support(
    mail_stack: MailStack, mail_user: MailUser
) -> None:
    cert, key = mail_stack.issue_client_cert("bot3@cpts.test")
    st = settings(
        mail_stack, mail_user, client_cert=cert, client_key=key, username=None, password=None
    )
    c = ImapConnection(st)
    with pytest.raises(ImapError, match="EXTERNAL"):
        await c.connect()
    await c.logout()


# ------------------------------------------------------------------ fetching


async def test_batch_fetch_is_one_command_and_byte_exact(
    mail_stack: MailStack,
    mail_user: MailUser,
    conn: ImapConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = [
        raw_message("a", mail_user.address),
        raw_message("b", mail_user.address, extra=b"\r\n" * 3),
        raw_message("c", mail_user.address, extra=b"." * 990 + b"\r\n"),
    ]
    append(mail_stack, mail_user, messages)
    await conn.select("INBOX")
    uids = await conn.search_uids()
    assert len(uids) == 3
    sent = spy_commands(monkeypatch, conn)

    fetched = await conn.fetch(uids)

    assert [c for c in sent if "FETCH" in c] == [
        f"UID FETCH {format_uid_set(uids)} (UID BODY.PEEK[])"
    ]
    assert [m.uid for m in fetched] == uids
    assert [hashlib.sha256(m.raw).hexdigest() for m in fetched] == [
        hashlib.sha256(m).hexdigest() for m in messages
    ]
    # PEEK: nothing marked \Seen, so a crash before commit loses nothing.
    ctx = ssl.create_default_context(cafile=str(mail_stack.ca_path))
    with imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=ctx) as imap:
        imap.login(mail_user.login, mail_user.password)
        imap.select("INBOX", readonly=True)
        _, flags = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert all(b"\\Seen" not in f for f in flags if isinstance(f, bytes))


async def test_fetched_mail_is_never_formatted_into_a_debug_line(
    mail_stack: MailStack,
    mail_user: MailUser,
    conn: ImapConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aioimaplib builds "Received : <every byte>" before its logger looks at the level:
    # CPU on the event loop for nothing, and message content in a string.
    big = raw_message("formatted", mail_user.address, extra=b"Nom : DUPONT\r\n" * 5000)
    append(mail_stack, mail_user, [big])
    debug_lines: list[str] = []
    module_log = aioimaplib.aioimaplib.log
    monkeypatch.setattr(module_log, "debug", lambda msg, *a, **k: debug_lines.append(str(msg)))
    await conn.select("INBOX")
    [fetched] = await conn.fetch(await conn.search_uids())
    assert fetched.raw == big
    assert not [line for line in debug_lines if "DUPONT" in line or "Received" in line]
    assert any(line.startswith("Sending") for line in debug_lines)  # the spy does see the log


async def test_fetch_of_smtp_delivered_mail_keeps_the_sent_bytes(
    mail_stack: MailStack, mail_user: MailUser, conn: ImapConnection
) -> None:
    sent = [raw_message(f"smtp{i}", mail_user.address) for i in range(3)]
    for raw in sent:
        send_raw_mail(mail_stack, raw, sender=SENDER, recipients=[mail_user.address])
    wait_for_messages(mail_stack, mail_user, count=3)
    await conn.select("INBOX")

    fetched = await conn.fetch(await conn.search_uids())

    by_token = {m.raw.split(b"Message-ID: <")[1].split(b"@")[0]: m.raw for m in fetched}
    for i, raw in enumerate(sent):
        got = by_token[f"smtp{i}".encode()]
        # Postfix and Dovecot only prepend trace headers.
        assert got.startswith(b"Return-Path: <" + SENDER.encode() + b">\r\n")
        assert hashlib.sha256(got[-len(raw) :]).digest() == hashlib.sha256(raw).digest()


async def test_search_from_min_uid(
    mail_stack: MailStack, mail_user: MailUser, conn: ImapConnection
) -> None:
    append(mail_stack, mail_user, [raw_message(t, mail_user.address) for t in "xyz"])
    await conn.select("INBOX")
    assert await conn.search_uids() == [1, 2, 3]
    assert await conn.search_uids(min_uid=2) == [2, 3]
    assert await conn.search_uids(min_uid=4) == []  # "4:*" still matches UID 3
    assert await conn.fetch([]) == []


async def test_commands_need_a_selected_folder(conn: ImapConnection) -> None:
    with pytest.raises(ImapError, match="no folder selected"):
        await conn.search_uids()


# -------------------------------------------------------------------- moving


@pytest.mark.parametrize("fallback", [False, True], ids=["MOVE", "COPY+EXPUNGE"])
async def test_move_to_created_folder(
    mail_stack: MailStack,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    fallback: bool,
) -> None:
    messages = [raw_message(t, mail_user.address) for t in ("m1", "m2", "m3")]
    append(mail_stack, mail_user, messages)
    c = ImapConnection(settings(mail_stack, mail_user), force_move_fallback=fallback)
    await c.connect()
    try:
        await c.ensure_folder("Traités/2026")
        await c.ensure_folder("Traités/2026")  # idempotent
        await c.select("INBOX")
        sent = spy_commands(monkeypatch, c)

        await c.move([1, 3], "Traités/2026")

        verbs = [line.split(" ")[1] for line in sent]
        if fallback:
            assert verbs == ["COPY", "STORE", "EXPUNGE"]
        else:
            assert verbs == ["MOVE"]
        assert await c.search_uids() == [2]
        moved = await c.select("Traités/2026")
        assert moved.exists == 2
        fetched = await c.fetch(await c.search_uids())
        assert [m.raw for m in fetched] == [messages[0], messages[2]]
    finally:
        await c.logout()
    # Dovecot stores the folder under its modified UTF-7 name.
    assert mail_stack.maildir(mail_user).joinpath(".Trait&AOk-s.2026").is_dir()


# ---------------------------------------------------------------------- IDLE


async def test_idle_wait_returns_true_when_mail_arrives(
    mail_stack: MailStack, mail_user: MailUser, conn: ImapConnection
) -> None:
    await conn.select("INBOX")
    started = time.monotonic()
    idle = asyncio.create_task(conn.idle_wait(timeout=15))
    raw = raw_message("idle", mail_user.address)
    await asyncio.to_thread(
        send_raw_mail, mail_stack, raw, sender=SENDER, recipients=[mail_user.address]
    )

    assert await idle is True
    assert time.monotonic() - started < 10
    # DONE was sent and answered: the session is usable at once.
    assert await conn.search_uids() == [1]


async def test_mail_announced_during_a_command_is_not_lost(
    mail_stack: MailStack, mail_user: MailUser, conn: ImapConnection
) -> None:
    """The server reports new mail once, in whatever response comes next (here a SEARCH);
    IDLE would never repeat it, so the connection remembers the announcement."""
    await conn.select("INBOX")
    conn.take_announcement()  # SELECT's own EXISTS
    assert await conn.search_uids() == []
    assert conn.take_announcement() is False
    await asyncio.to_thread(append, mail_stack, mail_user, [raw_message("late", mail_user.address)])
    await conn.search_uids()
    assert conn.take_announcement() is True
    assert conn.take_announcement() is False  # reported once
    assert await conn.search_uids() == [1]


async def test_idle_wait_returns_false_on_timeout(conn: ImapConnection) -> None:
    await conn.select("INBOX")
    started = time.monotonic()
    assert await conn.idle_wait(timeout=0.5) is False
    assert 0.5 <= time.monotonic() - started < 5
    await conn.noop()


async def test_lost_connection_raises_imap_error_quickly(
    mail_stack: MailStack, conn: ImapConnection
) -> None:
    await conn.select("INBOX")
    idle = asyncio.create_task(conn.idle_wait(timeout=60))
    await asyncio.to_thread(mail_stack.restart_dovecot)
    with pytest.raises(ImapError, match="connection lost"):
        await asyncio.wait_for(idle, 10)
    with pytest.raises(ImapError):
        await conn.noop()


# ---------------------------------------------------------------------- logs


async def test_logs_name_events_and_carry_no_content(
    mail_stack: MailStack, mail_user: MailUser
) -> None:
    append(mail_stack, mail_user, [raw_message("secretlog", mail_user.address)])
    with structlog.testing.capture_logs() as logs:
        async with ImapConnection(settings(mail_stack, mail_user), force_move_fallback=True) as c:
            await c.ensure_folder("Done")
            await c.select("INBOX")
            [message] = await c.fetch(await c.search_uids())
            await c.move([message.uid], "Done")
    events = [entry["event"] for entry in logs]
    [auth] = [entry for entry in logs if entry["event"] == "imap_authenticated"]
    assert auth["mechanism"] == "LOGIN" and auth["tls"] == "implicit"
    assert auth["port"] == mail_stack.imaps_port
    # "imap_connected" is the source's event (after SELECT, with the mailbox name), not ours.
    assert "imap_connected" not in events
    assert "imap_move_fallback" in events
    text = repr(logs)
    assert "secretlog" not in text and "née" not in text
    assert mail_user.password not in text
    assert "secretlog" not in repr(message)


# ----------------------------------------------------------------- settings


def test_settings_are_validated_and_the_password_stays_out_of_reprs() -> None:
    with pytest.raises(ValidationError, match="timeout"):
        TlsSettings(host="h", port=993, tls="implicit", timeout=0)
    with pytest.raises(ValidationError, match="port"):
        TlsSettings(host="h", port=0, tls="implicit")
    with pytest.raises(ValidationError, match="tls"):
        TlsSettings(host="h", port=993, tls="ssl")
    st = TlsSettings(host="h", port=993, tls="implicit", username="u", password="pw-123")
    assert "pw-123" not in repr(st)
    conn = ImapConnection(st)
    assert conn.settings is st
    assert "pw-123" not in repr(conn)


def test_password_file_is_read_when_the_connection_is_made(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw-from-file\n", encoding="utf-8")
    conn = ImapConnection(TlsSettings(username="u", password_file=secret))
    assert conn._password == "pw-from-file"
    secret.unlink()
    with pytest.raises(FileNotFoundError):
        ImapConnection(TlsSettings(username="u", password_file=secret))
