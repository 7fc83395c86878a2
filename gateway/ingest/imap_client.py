"""Thin typed IMAP client over aioimaplib: TLS (implicit or STARTTLS), batch fetch, move, IDLE.

aioimaplib does the framing; this module adds what it lacks (STARTTLS, AUTHENTICATE
EXTERNAL, byte-exact parsing of several literals in one FETCH, detection of a lost
connection) and turns every network or protocol failure into ``ImapError`` (a CA file or
client certificate that cannot be loaded is a ``ConfigError``, from ``gateway.tls``).
Error messages and log events carry command names and server status text, never message
content. Encoding arguments and parsing responses is in ``imap_wire``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar

import aioimaplib
import structlog

from gateway.config import TlsSettings
from gateway.errors import ImapError
from gateway.ingest.imap_wire import (
    FetchedMessage,
    SelectedFolder,
    encode_mailbox_name,
    format_uid_set,
    is_exists_line,
    is_recent_line,
    parse_fetch_response,
    parse_search_response,
    parse_select_response,
    quote_string,
    response_lines,
    status_text,
)
from gateway.tls import build_ssl_context, describe_error

__all__ = ["ImapConnection"]

log = structlog.get_logger("aiguilleur.ingest.imap")

_T = TypeVar("_T")


class ImapConnection:
    """One authenticated IMAP session. Not safe for concurrent use by several tasks.

    ``settings`` says where and how: host, port, ``tls`` ("implicit", "starttls" or
    "none"), the TLS files and ``tls_verify`` (see ``gateway.tls.build_ssl_context``),
    username and password (or password_file), timeout. A ``MailboxConfig`` is one. The
    password is read when the connection object is made.
    """

    def __init__(self, settings: TlsSettings, *, force_move_fallback: bool = False) -> None:
        self.settings = settings
        self._password = settings.secret()
        # Tests (and servers with a broken MOVE) use COPY + STORE + EXPUNGE instead.
        self.force_move_fallback = force_move_fallback
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()
        self._selected: str | None = None
        # Set when the server announces new mail (EXISTS) in the response to any command:
        # aioimaplib drops those untagged lines, and the server never repeats them in IDLE.
        self._announced = False

    # ------------------------------------------------------------------ session

    async def __aenter__(self) -> ImapConnection:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.logout()

    @property
    def capabilities(self) -> frozenset[str]:
        if self._client is None:
            return frozenset()
        return frozenset(str(c).upper() for c in self._client.protocol.capabilities)

    @property
    def supports_idle(self) -> bool:
        return "IDLE" in self.capabilities

    @property
    def is_encrypted(self) -> bool:
        transport = self._protocol.transport if self._client is not None else None
        return transport is not None and transport.get_extra_info("ssl_object") is not None

    async def connect(self) -> None:
        """Open the connection, negotiate TLS, authenticate."""
        st = self.settings
        # ConfigError if the CA file or the client certificate cannot be loaded.
        ctx = build_ssl_context(st) if st.tls != "none" else None
        self._lost = asyncio.Event()
        if st.tls == "implicit":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                host=st.host, port=st.port, timeout=st.timeout, ssl_context=ctx
            )
        else:
            client = aioimaplib.IMAP4(host=st.host, port=st.port, timeout=st.timeout)
        # IMAP4_SSL does not forward conn_lost_cb; the protocol exists already, so set it here.
        client.protocol.conn_lost_cb = self._on_connection_lost
        self._watch_announcements(client.protocol)
        _receive_without_formatting(client.protocol)
        self._client = client
        try:
            await self._guard("connect", client.wait_hello_from_server())
            if st.tls == "starttls":
                assert ctx is not None
                await self._starttls(ctx)
            await self._authenticate()
        except BaseException:
            self._close_transport()
            raise

    async def logout(self) -> None:
        """Best effort LOGOUT, then close. Never raises: it is what callers run in finally."""
        if self._client is None:
            return
        try:
            if not self._lost.is_set() and self._protocol.state in ("AUTH", "SELECTED"):
                await self._command("LOGOUT", self._protocol.logout(), limit=5.0)
        except ImapError as exc:
            # Servers often close right after the tagged OK: not worth more than debug.
            log.debug("imap_logout_incomplete", reason=str(exc))
        finally:
            self._close_transport()
            self._client = None
            self._selected = None

    # ------------------------------------------------------------------ mailbox

    async def select(self, folder: str) -> SelectedFolder:
        name = encode_mailbox_name(folder)
        response = await self._command("SELECT", self._protocol.select(name))
        selected = parse_select_response(response_lines(response))
        self._selected = folder
        return selected

    async def ensure_folder(self, name: str) -> None:
        """CREATE the folder unless it exists already."""
        encoded = encode_mailbox_name(name)
        response = await self._command(
            "CREATE", self._protocol.simple_command("CREATE", encoded), check=False
        )
        if response.result == "OK":
            log.info("imap_folder_created", folder=name)
            return
        status = status_text(response)
        if "ALREADYEXISTS" in status.upper():
            return
        # Servers without RFC 5530 codes: accept the NO if LIST finds the folder.
        listing = await self._command("LIST", self._protocol.simple_command("LIST", '""', encoded))
        if len(listing.lines) > 1:  # untagged LIST lines before the tagged OK
            return
        raise ImapError(f"CREATE failed: {response.result} {status}")

    async def search_uids(self, min_uid: int | None = None) -> list[int]:
        """UIDs in the selected folder, all or those >= min_uid, ascending."""
        self._require_selected()
        criteria = ("UID", f"{min_uid}:*") if min_uid is not None else ("ALL",)
        response = await self._command(
            "UID SEARCH", self._protocol.search(*criteria, charset=None, by_uid=True)
        )
        return parse_search_response(response_lines(response), min_uid)

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """Raw bytes of the given UIDs, in one UID FETCH, without setting \\Seen."""
        self._require_selected()
        if not uids:
            return []
        response = await self._command(
            "UID FETCH",
            self._protocol.fetch(
                format_uid_set(uids),
                "(UID BODY.PEEK[])",
                by_uid=True,
                timeout=self.settings.timeout,
            ),
            limit=None,  # the command's own timer restarts on each chunk: big mail is fine
        )
        found = parse_fetch_response(response.lines)
        wanted = set(uids)
        return [m for m in found if m.uid in wanted]

    async def move(self, uids: Sequence[int], dest: str) -> None:
        """Move messages: UID MOVE if offered, else COPY + \\Deleted + (UID) EXPUNGE."""
        self._require_selected()
        if not uids:
            return
        uid_set = format_uid_set(uids)
        mailbox = encode_mailbox_name(dest)
        if "MOVE" in self.capabilities and not self.force_move_fallback:
            await self._command("UID MOVE", self._protocol.uid("MOVE", uid_set, mailbox))
            return
        log.info("imap_move_fallback", count=len(uids), uidplus="UIDPLUS" in self.capabilities)
        await self._command("UID COPY", self._protocol.copy(uid_set, mailbox, by_uid=True))
        await self._command(
            "UID STORE",
            self._protocol.store(uid_set, "+FLAGS.SILENT", r"(\Deleted)", by_uid=True),
        )
        if "UIDPLUS" in self.capabilities:
            await self._command("UID EXPUNGE", self._protocol.expunge(uid_set, by_uid=True))
        else:
            # Without UIDPLUS this also expunges other \Deleted messages of the folder.
            await self._command("EXPUNGE", self._protocol.expunge())

    def take_announcement(self) -> bool:
        """True once if the server announced new mail (EXISTS) since the last call."""
        announced, self._announced = self._announced, False
        return announced

    async def noop(self) -> None:
        await self._command("NOOP", self._protocol.simple_command("NOOP"))

    async def idle_wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - public contract
        """IDLE up to ``timeout`` seconds; True when the server announced EXISTS or RECENT.

        IDLE always ends with DONE and its tagged OK, so the connection is ready for the
        next command. Search after every call: a False is not a promise of no new mail.
        """
        self._require_selected()
        if not self.supports_idle:
            raise ImapError("server has no IDLE capability")
        client = self._require_client()
        _drain(self._protocol.idle_queue)
        idle_task = await self._guard("IDLE", client.idle_start(timeout=timeout + 60))
        announced = False
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not announced:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                pushed = await self._next_push(remaining)
                if pushed is None or pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                announced = any(
                    is_exists_line(line) or is_recent_line(line)
                    for line in pushed
                    if isinstance(line, bytes | bytearray)
                )
        finally:
            if not self._lost.is_set() and client.has_pending_idle():
                client.idle_done()
        response = await self._guard("IDLE", idle_task)
        if response.result != "OK":
            raise ImapError(f"IDLE failed: {response.result} {status_text(response)}")
        log.debug("imap_idle_ended", announced=announced)
        return announced

    # ----------------------------------------------------------------- internals

    @property
    def _protocol(self) -> Any:
        return self._require_client().protocol

    def _require_client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    def _require_selected(self) -> None:
        if self._selected is None:
            raise ImapError("no folder selected")

    def _watch_announcements(self, protocol: Any) -> None:
        """See every untagged EXISTS, whichever command's response it arrives in."""
        handle_line = protocol._handle_line

        def watching(line: bytes, current_cmd: Any) -> Any:
            if line.startswith(b"* ") and is_exists_line(line):
                self._announced = True
            return handle_line(line, current_cmd)

        protocol._handle_line = watching

    def _on_connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.is_set():
            log.info("imap_connection_lost", host=self.settings.host, port=self.settings.port)
        self._lost.set()

    def _close_transport(self) -> None:
        client = self._client
        if client is None:
            return
        transport = client.protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        for task in list(client.tasks) + list(client.protocol.tasks):
            task.cancel()

    async def _race_lost(
        self, what: str, aw: Awaitable[_T], limit: float | None
    ) -> asyncio.Future[_T] | None:
        """Run ``aw`` until it ends, the connection drops or ``limit`` seconds pass.

        Returns the finished future (result or exception not yet retrieved), or None on
        timeout after cancelling ``aw``. Raises ImapError if the connection is or gets lost.
        """
        if self._lost.is_set():
            _close_awaitable(aw)
            raise ImapError(f"{what}: connection lost")
        task = asyncio.ensure_future(aw)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if task in done:
            return task
        task.cancel()
        if lost in done:
            raise ImapError(f"{what}: connection lost")
        return None

    async def _guard(
        self, what: str, aw: Awaitable[_T], limit: float | Literal["default"] | None = "default"
    ) -> _T:
        """Await ``aw`` but fail fast with ImapError when the connection drops or times out."""
        limit = self.settings.timeout if limit == "default" else limit
        finished = await self._race_lost(what, aw, limit)
        if finished is None:
            self._close_transport()
            raise ImapError(f"{what}: no answer within {limit}s")
        try:
            return finished.result()
        except (TimeoutError, aioimaplib.CommandTimeout):
            self._close_transport()
            raise ImapError(f"{what}: timed out") from None
        except ssl.SSLError as exc:
            raise ImapError(f"{what}: TLS failure: {describe_error(exc)}") from exc
        except OSError as exc:
            raise ImapError(f"{what}: {describe_error(exc)}") from exc
        except aioimaplib.AioImapException as exc:
            # aioimaplib messages may echo command arguments: keep only the type.
            raise ImapError(f"{what}: protocol error ({type(exc).__name__})") from None

    async def _next_push(self, limit: float) -> list[Any] | None:
        """Next batch of untagged lines during IDLE, or None after ``limit`` seconds."""
        finished = await self._race_lost("IDLE", self._protocol.idle_queue.get(), limit)
        if finished is None:
            return None
        pushed: list[Any] = finished.result()
        return pushed

    async def _command(
        self,
        what: str,
        aw: Awaitable[Any],
        *,
        check: bool = True,
        limit: float | Literal["default"] | None = "default",
    ) -> Any:
        response = await self._guard(what, aw, limit=limit)
        if check and response.result != "OK":
            raise ImapError(f"{what} failed: {response.result} {status_text(response)}")
        return response

    async def _starttls(self, ctx: ssl.SSLContext) -> None:
        protocol = self._protocol
        if "STARTTLS" not in self.capabilities:
            raise ImapError("server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        await self._command("STARTTLS", protocol.execute(command))
        if protocol.incomplete_line:
            # Bytes after the OK were sent in clear: possible injection (CVE-2011-0411 class).
            raise ImapError("STARTTLS: unexpected data after the server's OK")
        loop = asyncio.get_running_loop()
        tls_transport = await self._guard(
            "STARTTLS",
            loop.start_tls(protocol.transport, protocol, ctx, server_hostname=self.settings.host),
        )
        protocol.transport = tls_transport
        # Capabilities learnt in clear are not to be trusted (RFC 3501 6.2.1).
        await self._guard("CAPABILITY", protocol.capability())
        log.info("imap_starttls", host=self.settings.host, port=self.settings.port)

    async def _authenticate(self) -> None:
        st = self.settings
        if not self.is_encrypted and st.tls != "none":
            raise ImapError("refusing to authenticate over an unencrypted connection")
        protocol = self._protocol
        if self._password is not None and st.username is not None:
            if "LOGINDISABLED" in self.capabilities:
                raise ImapError("server disabled LOGIN on this connection")
            # aioimaplib sends the user name raw: quote it ourselves.
            login = protocol.login(quote_string(st.username), self._password)
            await self._command("LOGIN", login)
            mechanism = "LOGIN"
        elif st.client_cert is not None:
            caps = self.capabilities
            if "AUTH=EXTERNAL" not in caps or "SASL-IR" not in caps:
                raise ImapError("server offers no AUTHENTICATE EXTERNAL with SASL-IR")
            # "=" is an empty initial response: authorise as the certificate's identity.
            command = aioimaplib.Command(
                "AUTHENTICATE", protocol.new_tag(), "EXTERNAL", "=", loop=protocol.loop
            )
            await self._command("AUTHENTICATE", protocol.execute(command))
            protocol.state = aioimaplib.AUTH
            mechanism = "EXTERNAL"
        else:
            raise ImapError("no credentials: set a username and password, or a client cert")
        # Capabilities change after login; the ones in the OK line are not parsed cleanly.
        await self._guard("CAPABILITY", protocol.capability())
        log.info("imap_authenticated", host=st.host, port=st.port, tls=st.tls, mechanism=mechanism)


# ------------------------------------------------------------------- helpers


def _drain(queue: asyncio.Queue[Any]) -> None:
    """Forget pushes left from a previous IDLE: the caller has searched since."""
    while not queue.empty():
        queue.get_nowait()


def _close_awaitable(aw: Awaitable[Any]) -> None:
    close: Callable[[], None] | None = getattr(aw, "close", None)
    if close is not None:
        close()


def _receive_without_formatting(protocol: Any) -> None:
    """Hand what arrives straight to aioimaplib's parser.

    aioimaplib's ``data_received`` first builds its debug line, ``"Received : %s" % data``,
    whatever the logger's level: the repr of every chunk, about 0.2 ms per 64 KB of mail on
    the event loop (its logger stays at WARNING here: that line would hold message content).
    The rest is what it does: the same parser, the same handling of an incomplete read."""
    incomplete_read = aioimaplib.aioimaplib.IncompleteRead

    def received(data: bytes) -> None:
        try:
            protocol._handle_responses(
                protocol.incomplete_line + data, protocol._handle_line, protocol.current_command
            )
            protocol.incomplete_line = b""
            protocol.current_command = None
        except incomplete_read as incomplete:
            protocol.current_command = incomplete.cmd
            protocol.incomplete_line = incomplete.data

    protocol.data_received = received
