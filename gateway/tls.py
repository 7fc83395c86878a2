"""TLS contexts for IMAP and SMTP: verification on unless a key explicitly turns it off.

One context serves every connection with the same settings: a context holds its CA store
(about 0.8 MB with the system's), and a daemon watching 200 mailboxes, each reconnecting
now and then, would otherwise hold and rebuild one per connection. A changed CA or
certificate file (a renewed client certificate) gives a new context at the next connect.
"""

from __future__ import annotations

import os
import ssl
import threading
from asyncio import sslproto
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from gateway.errors import ConfigError

__all__ = [
    "TLS_READ_BUFFER",
    "TlsOptions",
    "build_ssl_context",
    "describe_error",
    "size_tls_read_buffers",
]

# asyncio gives every TLS connection a read buffer of this size, zero-filled and so resident
# at once: 256 KiB by default, 51 MB for 200 watched mailboxes. One TLS record holds at most
# 16 KiB; IMAP and SMTP exchanges are small, and a large FETCH takes more reads (4 MB: 256
# reads instead of 65, the same CPU within the noise), each calling the protocol.
TLS_READ_BUFFER = 16 * 1024


def size_tls_read_buffers(size: int = TLS_READ_BUFFER) -> None:
    """Set the read buffer of the TLS connections opened from now on, process-wide (the
    daemon calls it once at start). ``SSLProtocol.max_size`` is asyncio's own knob for it."""
    sslproto.SSLProtocol.max_size = size


class TlsOptions(Protocol):
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def client_cert(self) -> Path | None: ...
    @property
    def client_key(self) -> Path | None: ...
    @property
    def tls_verify(self) -> bool: ...


# Distinct settings in one process: a few (IMAP, SMTP, a client certificate per mailbox).
_CACHE_SIZE = 64
_FileStamp = tuple[str, int, int] | None  # path, mtime_ns, size
_Key = tuple[_FileStamp, _FileStamp, _FileStamp, bool]
_contexts: OrderedDict[_Key, ssl.SSLContext] = OrderedDict()
_lock = threading.Lock()


def _stamp(path: Path | None) -> _FileStamp:
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return (str(path), -1, -1)  # loading it below raises the ConfigError
    return (str(path), found.st_mtime_ns, found.st_size)


def build_ssl_context(options: TlsOptions) -> ssl.SSLContext:
    """Client context: the server is authenticated (CA file or system store), TLS >= 1.2,
    optional client certificate. Files that cannot be loaded raise ConfigError naming the key.

    The same settings, with the same files unchanged on disk, give the same context.
    """
    key: _Key = (
        _stamp(options.ca_file),
        _stamp(options.client_cert),
        _stamp(options.client_key),
        options.tls_verify,
    )
    with _lock:
        cached = _contexts.get(key)
        if cached is not None:
            _contexts.move_to_end(key)
            return cached
    context = _new_context(options)
    with _lock:
        _contexts[key] = context
        while len(_contexts) > _CACHE_SIZE:
            _contexts.popitem(last=False)
    return context


def _new_context(options: TlsOptions) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=str(options.ca_file) if options.ca_file is not None else None,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"ca_file cannot be loaded: {describe_error(exc)}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not options.tls_verify:
        # Only on an explicit `tls_verify = false`: for a lab server, never the default.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.client_cert is not None:
        # MSSanté application mailboxes authenticate with an IGC-Santé client certificate.
        # Without client_key, the key is read from the client_cert file (one PEM for both).
        try:
            context.load_cert_chain(
                str(options.client_cert),
                str(options.client_key) if options.client_key is not None else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"client_cert/client_key cannot be loaded: {describe_error(exc)}"
            ) from exc
    return context


def describe_error(exc: BaseException) -> str:
    """A short reason for a TLS or socket error: the OpenSSL reason or the strerror, never
    the exception's full text (which may carry paths or peer data)."""
    if isinstance(exc, ssl.SSLError):
        return str(getattr(exc, "reason", None) or type(exc).__name__)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
