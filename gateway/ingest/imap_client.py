"""Thin typed IMAP client over aioimaplib: TLS (implicit or STARTTLS), batch fetch, move, IDLE.

aioimaplib does the framing; this module adds what it lacks (STARTTLS, AUTHENTICATE
EXTERNAL, byte-exact parsing of several literals in one FETCH, detection of a lost
connection) and turns every failure into ``ImapError``. Error messages and log events
carry command names and server status text, never message content.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import aioimaplib
import structlog

from gateway.errors import ConfigError, ImapError

__all__ = [
    "FetchedMessage",
    "ImapConnection",
    "ImapEndpoint",
    "SelectedFolder",
    "build_ssl_context",
    "encode_mailbox_name",
    "format_uid_set",
    "parse_fetch_response",
    "quote_string",
]

log = structlog.get_logger()

TlsMode = Literal["implicit", "starttls", "none"]
_T = TypeVar("_T")

_EXISTS_RE = re.compile(rb"^(\d+) EXISTS\b", re.IGNORECASE)
_RECENT_RE = re.compile(rb"^(\d+) RECENT\b", re.IGNORECASE)
_UIDVALIDITY_RE = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_UIDNEXT_RE = re.compile(rb"\[UIDNEXT (\d+)\]", re.IGNORECASE)
_FETCH_START_RE = re.compile(rb"^(\d+) FETCH \(", re.IGNORECASE)
_FETCH_UID_RE = re.compile(rb"[( ]UID (\d+)", re.IGNORECASE)
_BODY_LITERAL_RE = re.compile(rb"BODY\[\] \{(\d+)\}$", re.IGNORECASE)
_STATUS_TEXT_MAX = 200


@dataclass(frozen=True)
class ImapEndpoint:
    """Where and how to reach one mailbox. ``verify=False`` must be asked for explicitly."""

    host: str
    port: int
    tls: TlsMode
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    verify: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.tls not in ("implicit", "starttls", "none"):
            raise ConfigError(f"imap.tls must be implicit, starttls or none, not {self.tls!r}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"imap.port out of range: {self.port}")
        if self.timeout <= 0:
            raise ConfigError("imap.timeout must be positive")
        if (self.client_cert is None) != (self.client_key is None):
            raise ConfigError("imap.client_cert and imap.client_key go together")
        if self.password is not None and self.username is None:
            raise ConfigError("imap.username is required with imap.password")


@dataclass(frozen=True)
class SelectedFolder:
    uidvalidity: int
    exists: int
    uidnext: int | None


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes = field(repr=False)


def build_ssl_context(endpoint: ImapEndpoint) -> ssl.SSLContext:
    """Client context: verification on (CA file or system store), TLS >= 1.2, client cert."""
    try:
        ctx = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=str(endpoint.ca_file) if endpoint.ca_file is not None else None,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"imap.ca_file cannot be loaded: {_describe(exc)}") from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not endpoint.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if endpoint.client_cert is not None and endpoint.client_key is not None:
        try:
            ctx.load_cert_chain(str(endpoint.client_cert), str(endpoint.client_key))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"imap.client_cert/imap.client_key cannot be loaded: {_describe(exc)}"
            ) from exc
    return ctx


class ImapConnection:
    """One authenticated IMAP session. Not safe for concurrent use by several tasks."""

    def __init__(self, endpoint: ImapEndpoint, *, force_move_fallback: bool = False) -> None:
        self.endpoint = endpoint
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
        ep = self.endpoint
        ctx = build_ssl_context(ep) if ep.tls != "none" else None
        self._lost = asyncio.Event()
        if ep.tls == "implicit":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                host=ep.host, port=ep.port, timeout=ep.timeout, ssl_context=ctx
            )
        else:
            client = aioimaplib.IMAP4(host=ep.host, port=ep.port, timeout=ep.timeout)
        # IMAP4_SSL does not forward conn_lost_cb; the protocol exists already, so set it here.
        client.protocol.conn_lost_cb = self._on_connection_lost
        self._watch_announcements(client.protocol)
        self._client = client
        try:
            await self._guard("connect", client.wait_hello_from_server())
            if ep.tls == "starttls":
                assert ctx is not None
                await self._starttls(ctx)
            await self._authenticate()
        except BaseException:
            self._close_transport()
            raise
        log.info("imap_connected", host=ep.host, port=ep.port, tls=ep.tls)

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
        uidvalidity = exists = None
        uidnext: int | None = None
        for line in _lines(response):
            if (m := _UIDVALIDITY_RE.search(line)) is not None:
                uidvalidity = int(m.group(1))
            elif (m := _UIDNEXT_RE.search(line)) is not None:
                uidnext = int(m.group(1))
            elif (m := _EXISTS_RE.match(line)) is not None:
                exists = int(m.group(1))
        if uidvalidity is None or exists is None:
            raise ImapError("SELECT response lacks UIDVALIDITY or EXISTS")
        self._selected = folder
        return SelectedFolder(uidvalidity=uidvalidity, exists=exists, uidnext=uidnext)

    async def ensure_folder(self, name: str) -> None:
        """CREATE the folder unless it exists already."""
        encoded = encode_mailbox_name(name)
        response = await self._command(
            "CREATE", self._protocol.simple_command("CREATE", encoded), check=False
        )
        if response.result == "OK":
            log.info("imap_folder_created", folder=name)
            return
        status = _status_text(response)
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
        uids: set[int] = set()
        # aioimaplib strips "* SEARCH" from untagged lines; the last line is the tagged text.
        for line in _lines(response)[:-1]:
            uids.update(int(tok) for tok in line.split() if tok.isdigit())
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(u for u in uids if min_uid is None or u >= min_uid)

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
                timeout=self.endpoint.timeout,
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
                    _EXISTS_RE.match(_strip_star(line)) or _RECENT_RE.match(_strip_star(line))
                    for line in pushed
                    if isinstance(line, bytes | bytearray)
                )
        finally:
            if not self._lost.is_set() and client.has_pending_idle():
                client.idle_done()
        response = await self._guard("IDLE", idle_task)
        if response.result != "OK":
            raise ImapError(f"IDLE failed: {response.result} {_status_text(response)}")
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
            if line.startswith(b"* ") and _EXISTS_RE.match(line[2:]):
                self._announced = True
            return handle_line(line, current_cmd)

        protocol._handle_line = watching

    def _on_connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.is_set():
            log.info("imap_connection_lost", host=self.endpoint.host, port=self.endpoint.port)
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

    async def _guard(
        self, what: str, aw: Awaitable[_T], limit: float | Literal["default"] | None = "default"
    ) -> _T:
        """Await ``aw`` but fail fast with ImapError when the connection drops or times out."""
        limit = self.endpoint.timeout if limit == "default" else limit
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
        if task not in done:
            task.cancel()
            if lost in done:
                raise ImapError(f"{what}: connection lost")
            self._close_transport()
            raise ImapError(f"{what}: no answer within {limit}s")
        try:
            return task.result()
        except (TimeoutError, aioimaplib.CommandTimeout):
            self._close_transport()
            raise ImapError(f"{what}: timed out") from None
        except ssl.SSLError as exc:
            raise ImapError(f"{what}: TLS failure: {_describe(exc)}") from exc
        except OSError as exc:
            raise ImapError(f"{what}: {_describe(exc)}") from exc
        except aioimaplib.AioImapException as exc:
            # aioimaplib messages may echo command arguments: keep only the type.
            raise ImapError(f"{what}: protocol error ({type(exc).__name__})") from None

    async def _next_push(self, limit: float) -> list[Any] | None:
        """Next batch of untagged lines during IDLE, or None after ``limit`` seconds."""
        get = asyncio.ensure_future(self._protocol.idle_queue.get())
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {get, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if get in done:
            pushed: list[Any] = get.result()
            return pushed
        get.cancel()
        if lost in done:
            raise ImapError("IDLE: connection lost")
        return None

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
            raise ImapError(f"{what} failed: {response.result} {_status_text(response)}")
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
            loop.start_tls(protocol.transport, protocol, ctx, server_hostname=self.endpoint.host),
        )
        protocol.transport = tls_transport
        # Capabilities learnt in clear are not to be trusted (RFC 3501 6.2.1).
        await self._guard("CAPABILITY", protocol.capability())
        log.info("imap_starttls", host=self.endpoint.host, port=self.endpoint.port)

    async def _authenticate(self) -> None:
        ep = self.endpoint
        if not self.is_encrypted and ep.tls != "none":
            raise ImapError("refusing to authenticate over an unencrypted connection")
        protocol = self._protocol
        if ep.password is not None and ep.username is not None:
            if "LOGINDISABLED" in self.capabilities:
                raise ImapError("server disabled LOGIN on this connection")
            # aioimaplib sends the user name raw: quote it ourselves.
            await self._command("LOGIN", protocol.login(quote_string(ep.username), ep.password))
            mechanism = "LOGIN"
        elif ep.client_cert is not None:
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
        log.info("imap_authenticated", mechanism=mechanism)


# ---------------------------------------------------------------------- pure helpers


def format_uid_set(uids: Sequence[int]) -> str:
    """Compact sequence set: [1, 2, 3, 7] -> "1:3,7"."""
    ordered = sorted(set(uids))
    if not ordered or ordered[0] < 1:
        raise ValueError("UIDs must be positive integers")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        parts.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(parts)


def parse_fetch_response(lines: Sequence[bytes | bytearray]) -> list[FetchedMessage]:
    """Split aioimaplib FETCH lines into messages.

    aioimaplib gives, per message, the ``n FETCH (... BODY[] {size}`` line (bytes), the
    literal (bytearray) and the closing line (bytes). UID may be on either side.
    """
    messages: list[FetchedMessage] = []
    uid: int | None = None
    body: bytes | None = None
    expected: int | None = None
    in_fetch = False

    def flush() -> None:
        if in_fetch and uid is not None and body is not None:
            messages.append(FetchedMessage(uid=uid, raw=body))

    for item in lines:
        if isinstance(item, bytearray):
            if expected is None:
                continue  # a literal we did not ask for
            if len(item) != expected:
                raise ImapError("FETCH literal shorter than announced")
            body = bytes(item)
            expected = None
            continue
        line = bytes(item)
        if _FETCH_START_RE.match(line):
            flush()
            in_fetch, uid, body, expected = True, None, None, None
        if not in_fetch:
            continue
        if (m := _FETCH_UID_RE.search(line)) is not None:
            uid = int(m.group(1))
        if (m := _BODY_LITERAL_RE.search(line)) is not None:
            expected = int(m.group(1))
    flush()
    return messages


def encode_mailbox_name(name: str) -> str:
    """Quoted IMAP mailbox name, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    if not name or any(c in name for c in "\r\n\0"):
        raise ValueError("invalid mailbox name")
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return quote_string("".join(out))


def quote_string(value: str) -> str:
    """IMAP quoted string (RFC 3501 section 9)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(response: Any) -> list[bytes]:
    return [bytes(line) for line in response.lines if isinstance(line, bytes | bytearray)]


def _strip_star(line: bytes | bytearray) -> bytes:
    data = bytes(line)
    return data[2:] if data.startswith(b"* ") else data


def _status_text(response: Any) -> str:
    """The tagged status text (server words, no message content), bounded."""
    if not response.lines:
        return ""
    last = response.lines[-1]
    if not isinstance(last, bytes | bytearray):
        return ""
    text = bytes(last).decode("ascii", errors="replace")
    return re.sub(r"[^\x20-\x7e]", "?", text)[:_STATUS_TEXT_MAX]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(getattr(exc, "reason", None) or type(exc).__name__)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _drain(queue: asyncio.Queue[Any]) -> None:
    """Forget pushes left from a previous IDLE: the caller has searched since."""
    while not queue.empty():
        queue.get_nowait()


def _close_awaitable(aw: Awaitable[Any]) -> None:
    close: Callable[[], None] | None = getattr(aw, "close", None)
    if close is not None:
        close()
