"""Where queued mail goes: SMTP (one kept connection) or a Maildir (embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosmtplib
import structlog

from gateway.config import SmtpConfig
from gateway.errors import (
    PermanentDeliveryError,
    ServerUnavailableError,
    TemporaryDeliveryError,
)
from gateway.tls import build_ssl_context

__all__ = [
    "MaildirTransport",
    "SmtpEnvelope",
    "SmtpTransport",
    "Transport",
    "build_transport",
]

log = structlog.get_logger("aiguilleur.outbox")


@dataclass(frozen=True)
class SmtpEnvelope:
    """What SMTP needs: the reverse-path, one recipient, the bytes (not header facts)."""

    sender: str
    recipient: str
    raw: bytes


class Transport(Protocol):
    async def send(self, item: SmtpEnvelope) -> None: ...
    async def close(self) -> None: ...


class SmtpTransport:
    """Keeps one SMTP connection open across messages; reconnects when it drops."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._client: aiosmtplib.SMTP | None = None
        self._tls: ssl.SSLContext | None = (
            build_ssl_context(config) if config.tls != "none" else None
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self._config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=cfg.timeout,
            use_tls=cfg.tls == "implicit",
            start_tls=cfg.tls == "starttls",
            tls_context=self._tls,
            validate_certs=cfg.tls_verify,
        )
        await client.connect()
        password = cfg.secret()
        if cfg.username and password:
            await client.login(cfg.username, password)
        return client

    async def send(self, item: SmtpEnvelope) -> None:
        try:
            if self._client is None or not self._client.is_connected:
                self._client = await self._connect()
            await _transaction(self._client, item)
        except aiosmtplib.SMTPRecipientRefused as exc:  # this mail only: the connection stays
            raise _classify(exc.code, exc.message) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            raise _classify(exc.code, exc.message) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._drop()
            raise ServerUnavailableError(f"{type(exc).__name__}: {exc}") from None

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # closing a broken socket may fail; it is gone either way
                log.debug("smtp_close_failed", error_type=type(exc).__name__)

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await self._client.quit()
        self._client = None


async def _transaction(client: aiosmtplib.SMTP, item: SmtpEnvelope) -> None:
    """MAIL, RCPT and DATA for one mail. ``sendmail`` did the same, but parsed each address
    twice and rewrote the whole mail's line endings once more to count its SIZE: a tenth of
    the CPU the event loop spends on SMTP, for bytes we wrote with CRLF already."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()  # the extensions below are read from its answer
    options = _body_options(client, item.raw)
    if client.supports_extension("size"):
        options.insert(0, f"SIZE={wire_size(item.raw)}")
    try:
        await client.mail(item.sender, options=options)
        await client.rcpt(item.recipient)
        await client.data(item.raw)
    except aiosmtplib.SMTPResponseException:
        # The envelope is reset for the next mail on this connection, as sendmail did.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise


def wire_size(raw: bytes) -> int:
    """The size DATA sends (RFC 1870): every line ending as CRLF, bare LF and CR included,
    and a last one added when the mail lacks it."""
    crlf = raw.count(b"\r\n")
    size = len(raw) + (raw.count(b"\n") - crlf) + (raw.count(b"\r") - crlf)
    return size if raw.endswith((b"\n", b"\r")) else size + 2


def _body_options(client: aiosmtplib.SMTP, raw: bytes) -> list[str]:
    """BODY=8BITMIME (RFC 6152) for a mail with 8-bit bytes: a forwarded original travels
    as received, as message/rfc822 allows. Everything else we write is 7-bit."""
    if raw.isascii():
        return []
    if client.supports_extension("8bitmime"):
        return ["BODY=8BITMIME"]
    log.warning("smtp_8bit_without_8bitmime")  # most servers take it all the same
    return []


def _classify(code: int, message: str) -> TemporaryDeliveryError | PermanentDeliveryError:
    text = f"{code} {message}"[:500]
    if 500 <= code < 600:
        return PermanentDeliveryError(text)
    return TemporaryDeliveryError(text)


class MaildirTransport:
    """The embedded default: replies are written to a local Maildir (the demo's outbox)."""

    def __init__(self, path: Path) -> None:
        self._box = mailbox.Maildir(path, create=True)

    async def send(self, item: SmtpEnvelope) -> None:
        await asyncio.to_thread(self._box.add, item.raw)

    async def close(self) -> None:
        return None


def build_transport(config: SmtpConfig) -> Transport:
    if config.transport == "maildir":
        assert config.maildir_path is not None
        return MaildirTransport(config.maildir_path)
    return SmtpTransport(config)
