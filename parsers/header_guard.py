"""Bounding a header block before the stdlib parses it.

``email.headerregistry`` (``policy.default``) parses a header value in time and memory
that grow with the square of its size and of its RFC 2047 encoded words: a 170 KB
``From`` of 10,000 encoded words takes a worker to 2.5 GB, and a ``Content-Type`` of
10,000 parameters takes seconds each time it is read. So every header block is cut to
size here, in one linear pass over its bytes, *before* any parser sees it:

* the block itself to ``ParseLimits.max_header_bytes`` (whole lines only) and to
  ``max_header_count`` headers (each one read costs ~0.3 ms: 20,000 ``Cc:`` are 6 s);
* each header to ``max_header_value_bytes``; the headers parsed token by token, whose
  parse copies the rest of the value for each token (addresses, ``Content-*``), to
  ``max_structured_header_bytes`` (a 10 KB ``Reply-To`` of 5,000 words took 4 s);
* each header to ``max_encoded_words`` RFC 2047 encoded words;
* a structured header where its comments nest deeper than ``MAX_COMMENT_DEPTH``: the
  stdlib recurses once per "(" (4,096 of them are a ``RecursionError``).

A header is cut at a space, so no encoded word is split; what was cut is reported by
problem code (``message.headers_too_large``, ``message.header_too_long``).
"""

from __future__ import annotations

import re

from parsers.limits import ParseLimits

__all__ = ["HEADERS_TOO_LARGE", "HEADER_TOO_LONG", "MAX_COMMENT_DEPTH", "bound_header_block"]

HEADERS_TOO_LARGE = "message.headers_too_large"
HEADER_TOO_LONG = "message.header_too_long"

# Bounded pieces, so a run of "=?" without an end costs one short scan each.
_ENCODED_WORD = re.compile(rb"=\?[^?\s]{1,75}\?[A-Za-z]\?[^?\s]{0,2000}\?=")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")
_STRUCTURED = frozenset(
    {
        b"from",
        b"sender",
        b"reply-to",
        b"to",
        b"cc",
        b"bcc",
        b"return-path",
        b"disposition-notification-to",
        b"resent-from",
        b"resent-sender",
        b"resent-to",
        b"resent-cc",
        b"resent-bcc",
        b"message-id",
        b"in-reply-to",
        b"mime-version",
    }
)
_PAREN = re.compile(rb"\\.|[()]", re.DOTALL)  # a quoted pair, or a parenthesis
MAX_COMMENT_DEPTH = 32
_FAST_BYTES = 2048  # below this, with few "=?", a block cannot be costly


def _comment_cut(header: bytes, end: int) -> int:
    """Where the comments of ``header[:end]`` nest deeper than ``MAX_COMMENT_DEPTH``."""
    if header.count(b"(", 0, end) <= MAX_COMMENT_DEPTH:
        return end
    depth = 0
    for found in _PAREN.finditer(header, 0, end):
        token = found.group()
        if token == b"(":
            depth += 1
            if depth > MAX_COMMENT_DEPTH:
                return found.start()
        elif token == b")":
            depth = max(0, depth - 1)
    return end


def _cut(header: bytes, cap: int, max_words: int, structured: bool) -> bytes | None:
    """``header`` (name, value, folds) cut to ``cap`` bytes, ``max_words`` encoded words
    and (``structured``) ``MAX_COMMENT_DEPTH`` nested comments; None when it needs no cut."""
    end = len(header)
    if len(header) > cap:
        end = cap
    if structured:
        end = _comment_cut(header, end)
    if header.count(b"=?", 0, end) > max_words:
        for count, word in enumerate(_ENCODED_WORD.finditer(header, 0, end), start=1):
            if count == max_words:
                end = min(end, word.end())
                break
    if end >= len(header):
        return None
    space = max(header.rfind(b" ", 0, end + 1), header.rfind(b"\t", 0, end + 1))
    colon = header.find(b":")
    end = space if space > colon >= 0 else end
    return header[:end].rstrip(b"\r\n") + b"\r\n"


def bound_header_block(block: bytes, limits: ParseLimits) -> tuple[bytes, set[str]]:
    """``block`` with the header lines before its first empty line bounded; the problem
    codes of what was cut. What follows the empty line (if any) is kept unchanged."""
    if (
        len(block) <= _FAST_BYTES
        and block.count(b"=?") <= limits.max_encoded_words
        and block.count(b"(") <= MAX_COMMENT_DEPTH
    ):
        return block, set()
    notes: set[str] = set()
    headers: list[list[bytes]] = []  # each: its first line and its continuation lines
    size, rest, dropping = 0, b"", False
    for found in _LINE.finditer(block):
        line = found.group()
        if not line:
            break
        if line in (b"\r\n", b"\n", b"\r"):
            rest = block[found.start() :]
            break
        size += len(line)
        folded = line[:1] in (b" ", b"\t") and bool(headers)
        if not folded:
            dropping = size > limits.max_header_bytes or len(headers) >= limits.max_header_count
            if dropping:
                notes.add(HEADERS_TOO_LARGE)
        if dropping:
            continue  # past the block's bounds: read to its end, never parsed
        if folded:
            headers[-1].append(line)
        else:
            headers.append([line])
    out: list[bytes] = []
    for lines in headers:
        header = lines[0] if len(lines) == 1 else b"".join(lines)
        name = header[: header.find(b":")].strip().lower()
        structured = name.startswith(b"content-") or name in _STRUCTURED
        cap = limits.max_structured_header_bytes if structured else limits.max_header_value_bytes
        cut = _cut(header, cap, limits.max_encoded_words, structured)
        if cut is None:
            out.append(header)
        else:
            notes.add(HEADER_TOO_LONG)
            out.append(cut)
    if not notes:
        return block, notes
    return b"".join(out) + rest, notes
