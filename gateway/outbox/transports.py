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
            options = await _body_options(self._client, item.raw)
            errors, _ = await self._client.sendmail(
                item.sender, [item.recipient], item.raw, mail_options=options
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients[0].code, exc.recipients[0].message) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            raise _classify(exc.code, exc.message) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._drop()
            raise ServerUnavailableError(f"{type(exc).__name__}: {exc}") from None
        if errors:
            code, message = next(iter(errors.values()))
            raise _classify(code, message)

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


async def _body_options(client: aiosmtplib.SMTP, raw: bytes) -> list[str]:
    """BODY=8BITMIME (RFC 6152) for a mail with 8-bit bytes: a forwarded original travels
    as received, as message/rfc822 allows. Everything else we write is 7-bit."""
    if raw.isascii():
        return []
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
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
