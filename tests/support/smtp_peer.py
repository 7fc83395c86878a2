"""Just enough of an SMTP server, on loopback, to see what a client sends (unit tests only:
end-to-end tests run Postfix)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.config import SmtpConfig

__all__ = ["SmtpPeer", "smtp_peer"]


class SmtpPeer:
    """Offers 8BITMIME and SIZE; answers RCPT with ``rcpt_reply`` (a refusal, say)."""

    def __init__(self, rcpt_reply: bytes = b"250 ok") -> None:
        self.commands: list[str] = []
        self.data: list[bytes] = []  # each mail's DATA, dot-stuffing undone
        self.rcpt_reply = rcpt_reply

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            command = line.decode().strip()
            self.commands.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                writer.write(b"250-test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            elif verb == "RCPT":
                writer.write(self.rcpt_reply + b"\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                chunks = []
                while (chunk := await reader.readline()) != b".\r\n":
                    chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.data.append(b"".join(chunks))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def verbs(self) -> list[str]:
        return [c.split(" ", 1)[0].upper() for c in self.commands]


@asynccontextmanager
async def smtp_peer(peer: SmtpPeer) -> AsyncIterator[SmtpConfig]:
    """``peer`` listening on loopback, and the SMTP settings that reach it (no TLS)."""
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpConfig(from_address="cpts@x.test", host="127.0.0.1", port=port, tls="none")
    finally:
        server.close()
        await server.wait_closed()
