"""TLS contexts for IMAP and SMTP: verification on unless a key explicitly turns it off."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Protocol

__all__ = ["TlsOptions", "build_ssl_context"]


class TlsOptions(Protocol):
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def client_cert(self) -> Path | None: ...
    @property
    def client_key(self) -> Path | None: ...
    @property
    def tls_verify(self) -> bool: ...


def build_ssl_context(options: TlsOptions) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not options.tls_verify:
        # Only on an explicit `tls_verify = false`: for a lab server, never the default.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.client_cert is not None:
        # MSSanté application mailboxes authenticate with an IGC-Santé client certificate.
        context.load_cert_chain(
            str(options.client_cert),
            str(options.client_key) if options.client_key else None,
        )
    return context
