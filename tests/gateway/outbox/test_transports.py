"""The SMTP transport against a peer that records what it is sent (Postfix: tests/e2e)."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiosmtplib.protocol import normalize_message_line_endings

from gateway.errors import PermanentDeliveryError, TemporaryDeliveryError
from gateway.outbox.transports import SmtpEnvelope, SmtpTransport, wire_size
from tests.support.smtp_peer import SmtpPeer, smtp_peer

MAIL = b"Subject: x\r\nTo: dr@x.test\r\n\r\nBonjour,\r\n.point en t\xc3\xaate\r\n"


@pytest.mark.parametrize(
    "raw",
    [MAIL, b"a\nb\rc\r\n", b"no ending", b"", b"\r\r\n\n", b"ends in CR\r", b".\r\n..\r\n"],
)
def test_the_declared_size_is_what_data_sends(raw: bytes) -> None:
    assert wire_size(raw) == len(normalize_message_line_endings(raw))


def test_one_mail_is_one_transaction_declaring_its_size() -> None:
    async def scenario() -> SmtpPeer:
        peer = SmtpPeer()
        async with smtp_peer(peer) as config:
            transport = SmtpTransport(config)
            await transport.send(SmtpEnvelope("cpts@x.test", "Dr@X.test", MAIL))
            await transport.send(SmtpEnvelope("cpts@x.test", "autre@x.test", MAIL))
            await transport.close()
        return peer

    peer = asyncio.run(scenario())
    assert peer.verbs() == ["EHLO", "MAIL", "RCPT", "DATA", "MAIL", "RCPT", "DATA", "QUIT"]
    mail_from = peer.commands[1]
    assert mail_from.startswith("MAIL FROM:<cpts@x.test>")
    assert re.search(r"SIZE=(\d+)", mail_from, re.IGNORECASE)[1] == str(len(MAIL))  # type: ignore[index]
    assert "BODY=8BITMIME" in mail_from.upper()
    assert peer.commands[2] == "RCPT TO:<Dr@X.test>"
    assert peer.data == [MAIL, MAIL]  # as written, a leading dot included


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"550 5.1.1 unknown user", PermanentDeliveryError),
        (b"450 4.2.0 try later", TemporaryDeliveryError),
    ],
)
def test_a_refused_recipient_fails_that_mail_and_keeps_the_connection(
    reply: bytes, error: type[Exception]
) -> None:
    async def scenario() -> tuple[SmtpPeer, Exception]:
        peer = SmtpPeer(rcpt_reply=reply)
        async with smtp_peer(peer) as config:
            transport = SmtpTransport(config)
            with pytest.raises(error) as refused:
                await transport.send(SmtpEnvelope("cpts@x.test", "dr@x.test", MAIL))
            peer.rcpt_reply = b"250 ok"
            await transport.send(SmtpEnvelope("cpts@x.test", "dr@x.test", MAIL))
            await transport.close()
        return peer, refused.value

    peer, refused = asyncio.run(scenario())
    assert str(refused).startswith(reply[:3].decode())
    # The envelope reset, then the next mail on the same connection (one EHLO).
    assert peer.verbs() == ["EHLO", "MAIL", "RCPT", "RSET", "MAIL", "RCPT", "DATA", "QUIT"]
    assert peer.data == [MAIL]
