"""One error root for the gateway, split where callers must act differently."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeliveryError",
    "GatewayError",
    "ImapError",
    "PermanentDeliveryError",
    "ServerUnavailableError",
    "TemporaryDeliveryError",
]


class GatewayError(Exception):
    """Root of every error raised on purpose by Aiguilleur."""


class ConfigError(GatewayError, ValueError):
    """The configuration is invalid; the message names the key."""


class ImapError(GatewayError, ConnectionError):
    """An IMAP command failed or the connection was lost; the caller reconnects."""


class DeliveryError(GatewayError):
    """An outbound message could not be delivered."""


class TemporaryDeliveryError(DeliveryError, ConnectionError):
    """4xx reply or connection failure: retry later with backoff."""


class ServerUnavailableError(TemporaryDeliveryError):
    """The server could not be reached or dropped us: every queued message waits, not just one."""


class PermanentDeliveryError(DeliveryError):
    """5xx reply: do not retry; make it visible."""
