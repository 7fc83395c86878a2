"""TLS contexts, one per distinct settings and rebuilt when a CA or certificate file changes;
the read buffer of each TLS connection."""

from __future__ import annotations

import asyncio
import os
import ssl
from asyncio import sslproto
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest

from gateway.tls import TLS_READ_BUFFER, build_ssl_context, size_tls_read_buffers


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


async def test_tls_connections_read_through_a_16_kib_buffer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # asyncio's default, 256 KiB per connection and resident at once, was 51 MB for 200
    # watched mailboxes: the daemon sets it once at start.
    # asyncio's default, whatever a daemon run earlier in this process set.
    monkeypatch.setattr(sslproto.SSLProtocol, "max_size", 256 * 1024)
    loop = asyncio.get_running_loop()
    context = build_ssl_context(Options())

    def buffer() -> int:
        protocol = sslproto.SSLProtocol(loop, asyncio.Protocol(), context, loop.create_future())
        return len(protocol.get_buffer(-1))

    assert buffer() == 256 * 1024
    size_tls_read_buffers()
    assert buffer() == TLS_READ_BUFFER == 16 * 1024
