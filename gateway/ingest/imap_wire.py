"""Pure IMAP wire helpers: encode arguments, parse aioimaplib response lines.

No I/O and no connection state here (like aiosmtplib's ``esmtp`` module): every function
takes strings or response lines and returns values, so each can be tested on its own.
Parse errors raise ``ImapError``; invalid arguments raise ``ValueError``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import ImapError

__all__ = [
    "FetchedMessage",
    "SelectedFolder",
    "encode_mailbox_name",
    "format_uid_set",
    "is_exists_line",
    "is_recent_line",
    "parse_fetch_response",
    "parse_search_response",
    "parse_select_response",
    "quote_string",
    "response_lines",
    "status_text",
    "strip_star",
]

_EXISTS_RE = re.compile(rb"^(\d+) EXISTS\b", re.IGNORECASE)
_RECENT_RE = re.compile(rb"^(\d+) RECENT\b", re.IGNORECASE)
_UIDVALIDITY_RE = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_UIDNEXT_RE = re.compile(rb"\[UIDNEXT (\d+)\]", re.IGNORECASE)
_FETCH_START_RE = re.compile(rb"^(\d+) FETCH \(", re.IGNORECASE)
_FETCH_UID_RE = re.compile(rb"[( ]UID (\d+)", re.IGNORECASE)
_BODY_LITERAL_RE = re.compile(rb"BODY\[\] \{(\d+)\}$", re.IGNORECASE)
_STATUS_TEXT_MAX = 200


@dataclass(frozen=True)
class SelectedFolder:
    uidvalidity: int
    exists: int
    uidnext: int | None


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes = field(repr=False)


# --------------------------------------------------------------------- arguments


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


# ---------------------------------------------------------------------- responses


def response_lines(response: Any) -> list[bytes]:
    """The lines of an aioimaplib response as bytes (literals included), nothing else."""
    return [bytes(line) for line in response.lines if isinstance(line, bytes | bytearray)]


def strip_star(line: bytes | bytearray) -> bytes:
    """An untagged line without its leading ``* `` (aioimaplib keeps it in IDLE pushes)."""
    data = bytes(line)
    return data[2:] if data.startswith(b"* ") else data


def is_exists_line(line: bytes | bytearray) -> bool:
    """``n EXISTS``, with or without the leading ``* ``: the folder has n messages."""
    return _EXISTS_RE.match(strip_star(line)) is not None


def is_recent_line(line: bytes | bytearray) -> bool:
    """``n RECENT``, with or without the leading ``* ``."""
    return _RECENT_RE.match(strip_star(line)) is not None


def status_text(response: Any) -> str:
    """The tagged status text (server words, no message content), bounded."""
    if not response.lines:
        return ""
    last = response.lines[-1]
    if not isinstance(last, bytes | bytearray):
        return ""
    text = bytes(last).decode("ascii", errors="replace")
    return re.sub(r"[^\x20-\x7e]", "?", text)[:_STATUS_TEXT_MAX]


def parse_select_response(lines: Sequence[bytes]) -> SelectedFolder:
    """UIDVALIDITY, EXISTS and UIDNEXT from the lines of a SELECT response."""
    uidvalidity = exists = None
    uidnext: int | None = None
    for line in lines:
        if (m := _UIDVALIDITY_RE.search(line)) is not None:
            uidvalidity = int(m.group(1))
        elif (m := _UIDNEXT_RE.search(line)) is not None:
            uidnext = int(m.group(1))
        elif (m := _EXISTS_RE.match(line)) is not None:
            exists = int(m.group(1))
    if uidvalidity is None or exists is None:
        raise ImapError("SELECT response lacks UIDVALIDITY or EXISTS")
    return SelectedFolder(uidvalidity=uidvalidity, exists=exists, uidnext=uidnext)


def parse_search_response(lines: Sequence[bytes], min_uid: int | None = None) -> list[int]:
    """Ascending UIDs of a UID SEARCH response, only those >= ``min_uid`` if given.

    aioimaplib strips "* SEARCH" from untagged lines; the last line is the tagged text.
    """
    uids: set[int] = set()
    for line in lines[:-1]:
        uids.update(int(tok) for tok in line.split() if tok.isdigit())
    # "n:*" always matches the highest UID, even when it is below n.
    return sorted(u for u in uids if min_uid is None or u >= min_uid)


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
