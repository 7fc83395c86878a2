"""TLS contexts: one per distinct settings, rebuilt when a CA or certificate file changes."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import certifi

from gateway.tls import build_ssl_context


@dataclass(frozen=True)
class Options:
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    tls_verify: bool = True


def test_connections_with_the_same_settings_share_one_context(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(Path(certifi.where()).read_bytes())
    first = build_ssl_context(Options(ca_file=ca))
    assert build_ssl_context(Options(ca_file=ca)) is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    lab = build_ssl_context(Options(ca_file=ca, tls_verify=False))
    assert lab is not first and lab.verify_mode == ssl.CERT_NONE
    assert first.verify_mode == ssl.CERT_REQUIRED  # the shared one was left as it was
    # A renewed CA file (new contents, new mtime) is read again at the next connection.
    ca.write_bytes(Path(certifi.where()).read_bytes() + b"\n")
    os.utime(ca, ns=(1, 1))
    renewed = build_ssl_context(Options(ca_file=ca))
    assert renewed is not first and renewed.verify_mode == ssl.CERT_REQUIRED
    assert build_ssl_context(Options(ca_file=ca)) is renewed
    assert build_ssl_context(Options()) is not renewed  # the system store: another context
