"""Session cookies: a random token, HMAC-signed; the database keeps only its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

__all__ = ["load_secret", "new_token", "sign", "token_id", "unsign"]


def load_secret(path: Path) -> bytes:
    """The signing key, created (mode 0600) on first use."""
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) < 32:
            raise ValueError(f"{path}: secret key shorter than 32 bytes")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_urlsafe(48).encode()
    path.touch(mode=0o600)
    path.write_bytes(data)
    return data


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """What the database stores: a leaked table gives no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def sign(secret: bytes, value: str) -> str:
    return f"{value}.{_mac(secret, value)}"


def unsign(secret: bytes, signed: str) -> str | None:
    value, _, mac = signed.rpartition(".")
    if not value or not hmac.compare_digest(mac, _mac(secret, value)):
        return None
    return value
