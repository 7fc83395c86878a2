"""Byte-level MIME splitter: the stdlib feed parser's tree, without copying bodies.

``email.feedparser`` turns the whole message into ``str`` lines and joins every
body into a string; for a 15 MB attachment that is many copies. This module
follows ``FeedParser._parsegen`` step by step (same boundary test, same
false-EOF stack, same quirks) so the tree is the one the stdlib would build,
but it works on offsets into one ``bytes``/``memoryview`` buffer: each part
keeps its headers (parsed by the stdlib from the header lines only) and the
spans of its body. Bodies are found by scans for the lines that can end them, not line by line.

Hostile input is bounded while splitting, before any cost is paid: each header block
goes through ``header_guard`` before the stdlib parses it, and once ``max_mime_parts``
parts exist the rest of the message is skipped with one scan (no more parts, headers or
boundaries are read). What was cut is in ``MimePart.notes`` (problem codes), shared by
every part of one tree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.parser import BytesParser

from parsers.header_guard import HEADERS_TOO_LARGE, bound_header_block
from parsers.header_policy import PARSE_POLICY
from parsers.limits import ParseLimits

__all__ = ["TOO_MANY_PARTS", "Buffer", "MimePart", "Span", "split_message"]

TOO_MANY_PARTS = "message.too_many_parts"

Buffer = bytes | bytearray | memoryview
Span = tuple[int, int]

_NEWLINE = re.compile(rb"\r\n|\r|\n")  # FeedParser splits lines on all three
_HEADER_LINE = re.compile(rb"From |[\041-\071\073-\176]*:|[\t ]")  # feedparser.headerRE
_CR, _LF = 13, 10


class MimePart:
    """One node of the tree; ``children`` is None for a leaf (a string payload)."""

    __slots__ = ("buffer", "children", "ctype", "headers", "notes", "spans")

    def __init__(
        self, buffer: memoryview, headers: EmailMessage, notes: set[str] | None = None
    ) -> None:
        self.buffer = buffer
        self.notes = notes if notes is not None else set()  # the tree's, not only this part's
        self.headers = headers
        self.ctype = headers.get_content_type()
        self.children: list[MimePart] | None = None
        self.spans: list[Span] = []

    def is_multipart(self) -> bool:
        return self.children is not None

    def raw_size(self) -> int:
        return sum(end - start for start, end in self.spans)

    def raw_views(self) -> list[memoryview]:
        """The body as it is in the message (still transfer-encoded), without a copy."""
        return [self.buffer[start:end] for start, end in self.spans]

    def raw_bytes(self) -> bytes:
        views = self.raw_views()
        return views[0].tobytes() if len(views) == 1 else b"".join(views)


class _Matcher:
    """One false-EOF predicate: a multipart boundary line, or (None) a blank line."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: bytes | None) -> None:
        self.prefix = prefix  # b"--" + the boundary, as it is in the message

    @classmethod
    def boundary(cls, boundary: str) -> _Matcher | None:
        try:
            raw = boundary.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return None  # no line of an ASCII/surrogate-escaped stream can match it
        return cls(b"--" + raw)

    def _after_prefix(self, buffer: memoryview, start: int, end: int) -> int | None:
        """Where the boundary text starting at ``start`` ends, if it does, within ``end``."""
        assert self.prefix is not None
        after = start + len(self.prefix)
        return after if after <= end and buffer[start:after] == self.prefix else None

    def _tail(self, buffer: memoryview, span: Span) -> re.Match[bytes] | None:
        # feedparser's boundaryre on one line: the boundary text, then _TAIL to its end.
        after = self._after_prefix(buffer, *span)
        return _TAIL.match(buffer, after, span[1]) if after is not None else None

    def matches(self, buffer: memoryview, span: Span) -> bool:
        if self.prefix is None:
            return buffer[span[0]] in (_CR, _LF)
        return self._tail(buffer, span) is not None

    def is_close(self, buffer: memoryview, span: Span) -> bool:
        found = self._tail(buffer, span)
        return found is not None and found.group("end") is not None

    def starts_line(self, buffer: memoryview, start: int, end: int) -> bool:
        """Whether a boundary line of this matcher's starts at ``start`` (a scan's test)."""
        after = self._after_prefix(buffer, start, end)
        return after is not None and _SCAN_TAIL.match(buffer, after, end) is not None


_BLANK = _Matcher(None)
# What may follow the boundary on its line: the close marker, blanks, the line's end.
_TAIL = re.compile(rb"(?P<end>--)?[ \t]*(?:\r\n|\r|\n)?$")
_SCAN_TAIL = re.compile(rb"(?:--)?[ \t]*(?:[\r\n]|\Z)")
# Where a scan looks: lines that start with "--" (a boundary's lines), blank lines.
_DASH_LINE = re.compile(rb"[\r\n]--")
_BLANK_LINE = re.compile(rb"(?:\n|\r(?!\n))[\r\n]")
# Lines starting with "--" that are not a boundary of the part, tested one by one, before
# the scan compiles one regex for the part's boundaries (as hostile input would want): a
# message's boundaries are its own, and compiling for each cost a parse 0.2 ms.
_DASH_LINES_TESTED = 32


@functools.lru_cache(maxsize=64)
def _boundary_scan(prefixes: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """The first line starting with one of ``prefixes``, with its tail; the match starts
    at the line break before it."""
    either = b"|".join(re.escape(p) for p in prefixes)
    return re.compile(rb"[\r\n](?:" + either + rb")(?:--)?[ \t]*(?:[\r\n]|\Z)")


class _Input:
    """``feedparser.BufferedSubFile`` over offsets: lines, push-back, false-EOF stack."""

    def __init__(self, buffer: memoryview) -> None:
        self.buffer = buffer
        self.pos = 0
        self.end = len(buffer)
        self.pushed: list[Span] = []  # a stack: the last pushed is read first
        self.eofs: list[_Matcher] = []

    def _next_line(self) -> Span | None:
        if self.pos >= self.end:
            return None
        found = _NEWLINE.search(self.buffer, self.pos)
        end = found.end() if found is not None else self.end
        line = (self.pos, end)
        self.pos = end
        return line

    def _ends_input(self, line: Span) -> bool:
        return any(matcher.matches(self.buffer, line) for matcher in self.eofs)

    def readline(self) -> Span | None:
        """The next line, or None at the real or a false EOF."""
        if self.pushed:
            line = self.pushed.pop()
        else:
            next_line = self._next_line()
            if next_line is None:
                return None
            line = next_line
        if self.eofs and self._ends_input(line):
            self.pushed.append(line)
            return None
        return line

    def unread(self, line: Span) -> None:
        self.pushed.append(line)

    def read_until(self, stop: _Matcher | None = None) -> list[Span]:
        """Every line up to the EOF or to a line matching ``stop`` (left unread)."""
        spans: list[Span] = []
        while self.pushed:
            line = self.readline()
            if line is None:
                return spans
            if stop is not None and stop.matches(self.buffer, line):
                self.unread(line)
                return spans
            spans.append(line)
        matchers = [*self.eofs, stop] if stop is not None else self.eofs
        end = self._first_match(matchers)
        if end > self.pos:
            spans.append((self.pos, end))
            self.pos = end
        return spans

    def _first_match(self, matchers: Sequence[_Matcher]) -> int:
        """Offset of the first line at or after ``pos`` matching one of ``matchers``."""
        buffer, start, end = self.buffer, self.pos, self.end
        if not matchers or start >= end:
            return end
        found = _NEWLINE.search(buffer, start)
        first = (start, found.end() if found is not None else end)
        if any(matcher.matches(buffer, first) for matcher in matchers):
            return start
        # Every matcher's first line after this one: the part ends at the earliest.
        stop = end
        if any(m.prefix is None for m in matchers):
            blank = _BLANK_LINE.search(buffer, start, end)
            stop = blank.start() + 1 if blank is not None else end
        bounded = [m for m in matchers if m.prefix is not None]
        if bounded:
            stop = _first_boundary_line(buffer, bounded, start, stop)
        return stop


def _first_boundary_line(
    buffer: memoryview, matchers: Sequence[_Matcher], start: int, end: int
) -> int:
    """The start of the first line after the one at ``start`` and before ``end`` that is
    a boundary line of one of ``matchers``; else ``end``."""
    pos = start
    for _ in range(_DASH_LINES_TESTED):
        dashes = _DASH_LINE.search(buffer, pos, end)
        if dashes is None:
            return end
        line = dashes.start() + 1
        if any(m.starts_line(buffer, line, end) for m in matchers):
            return line
        pos = line
    prefixes = tuple(sorted({m.prefix for m in matchers if m.prefix is not None}))
    found = _boundary_scan(prefixes).search(buffer, pos, end)
    return found.start() + 1 if found is not None else end


def _strip_line_end(part: MimePart) -> None:
    """RFC 2046: the line break before a boundary belongs to the boundary."""
    if not part.spans:
        return
    start, end = part.spans[-1]
    last = part.buffer[end - 1]
    if last == _LF and end - start >= 2 and part.buffer[end - 2] == _CR:
        end -= 2
    elif last in (_CR, _LF):
        end -= 1
    if end > start:
        part.spans[-1] = (start, end)
    else:
        part.spans.pop()


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        elif end > start:
            merged.append((start, end))
    return merged


class _Splitter:
    def __init__(self, buffer: memoryview, max_depth: int, limits: ParseLimits) -> None:
        self.buffer = buffer
        self.input = _Input(buffer)
        self.max_depth = max_depth
        self.limits = limits
        self.parts = 0
        self.notes: set[str] = set()
        self.last: MimePart | None = None  # FeedParser._last: the part whose line break to drop

    @property
    def full(self) -> bool:
        """No more parts are made: the walker would not read them anyway."""
        return self.parts >= self.limits.max_mime_parts

    def _headers(self, lines: list[Span], parent: MimePart | None) -> EmailMessage:
        raw = b"".join(self.buffer[start:end] for start, end in lines)
        raw, notes = bound_header_block(raw, self.limits)
        self.notes |= notes
        headers = BytesParser(policy=PARSE_POLICY).parsebytes(raw, headersonly=True)
        assert isinstance(headers, EmailMessage)
        if parent is not None and parent.ctype == "multipart/digest":
            headers.set_default_type("message/rfc822")
        return headers

    def parse(self, parent: MimePart | None, depth: int) -> MimePart:
        """``FeedParser._parsegen``: one part (and what it contains) from the input."""
        source, buffer = self.input, self.buffer
        if self.full:
            # Over the part limit: the rest of this part is skipped in one scan, unparsed.
            self.notes.add(TOO_MANY_PARTS)
            source.read_until()
            part = MimePart(buffer, EmailMessage(policy=PARSE_POLICY), self.notes)
            part.ctype = "application/octet-stream"
            if parent is not None and parent.children is not None:
                parent.children.append(part)
            self.last = part
            return part
        self.parts += 1
        lines: list[Span] = []
        size = 0
        while (line := source.readline()) is not None:
            if not _HEADER_LINE.match(buffer, line[0], line[1]):
                if buffer[line[0]] not in (_CR, _LF):
                    source.unread(line)  # no blank line: this line starts the body
                break
            size += line[1] - line[0]
            if size <= self.limits.max_header_bytes:  # the rest is read but never parsed
                lines.append(line)
            else:
                self.notes.add(HEADERS_TOO_LARGE)
        if len(lines) > 1 and buffer[lines[-1][0] : lines[-1][0] + 5].tobytes() == b"From ":
            source.unread(lines.pop())  # a trailing "From " line is taken as body
        part = MimePart(buffer, self._headers(lines, parent), self.notes)
        if parent is not None and parent.children is not None:
            parent.children.append(part)
        self.last = part
        if depth > self.max_depth:
            # Never walked (the walker stops at max depth): keep it opaque.
            part.spans = _merge(source.read_until())
        elif part.ctype == "message/delivery-status":
            self._delivery_status(part, depth)
        elif part.ctype.startswith("message/"):
            part.children = []
            self.parse(part, depth + 1)
        elif part.ctype.startswith("multipart/"):
            self._multipart(part, depth)
        else:
            part.spans = _merge(source.read_until())
        return part

    def _delivery_status(self, part: MimePart, depth: int) -> None:
        # Blocks of headers separated by blank lines, each one a child part.
        source = self.input
        part.children = []
        while True:
            if self.full:
                self.notes.add(TOO_MANY_PARTS)
                source.read_until()
                return
            source.eofs.append(_BLANK)
            self.parse(part, depth + 1)
            source.eofs.pop()
            source.readline()  # the blank line, if any
            line = source.readline()
            if line is None:
                break
            source.unread(line)

    def _multipart(self, part: MimePart, depth: int) -> None:
        source, buffer = self.input, self.buffer
        boundary = part.headers.get_boundary()
        if boundary is None:
            part.spans = _merge(source.read_until())
            return
        matcher = _Matcher.boundary(boundary)
        if matcher is None:
            # No boundary line can occur: the stdlib keeps it all as the preamble.
            part.spans = _merge(source.read_until())
            return
        preamble = source.read_until(matcher)
        capturing_preamble = True
        close_boundary_seen = False
        while (line := source.readline()) is not None:
            if not matcher.matches(buffer, line):
                preamble.append(line)  # as the stdlib; read_until took the preamble already
                continue
            if matcher.is_close(buffer, line):
                close_boundary_seen = True
                break
            if self.full and not capturing_preamble:
                # Over the part limit: skip to this multipart's end (or the parent's) in
                # one scan; every boundary line in between would cost a part.
                self.notes.add(TOO_MANY_PARTS)
                source.read_until()
                return
            capturing_preamble = False
            if part.children is None:
                part.children = []
            # Repeated boundary lines make no empty parts. (At the EOF the stdlib
            # pushes back an empty line; the part below then reads EOF either way.)
            while (following := source.readline()) is not None:
                if not matcher.matches(buffer, following):
                    source.unread(following)
                    break
            source.eofs.append(matcher)
            self.parse(part, depth + 1)
            last = self.last
            if (
                last is not None
                and last.children is None
                and not last.ctype.startswith("multipart/")
            ):
                _strip_line_end(last)
            source.eofs.pop()
            self.last = part
        if capturing_preamble:
            # No start boundary: the preamble becomes the payload, the rest is dropped.
            part.spans = _merge(preamble)
            if close_boundary_seen:
                source.read_until()
            return
        if close_boundary_seen:
            source.read_until()  # the epilogue


def split_message(
    data: Buffer, *, max_depth: int = 12, limits: ParseLimits | None = None
) -> MimePart:
    """The MIME tree of ``data``, as ``email.parser.BytesParser`` would build it.

    Parts nested deeper than ``max_depth`` are kept as opaque leaves; past
    ``limits.max_mime_parts`` parts, the rest is not split (``TOO_MANY_PARTS`` in notes).
    """
    buffer = data if isinstance(data, memoryview) else memoryview(data)
    return _Splitter(buffer, max_depth, limits or ParseLimits()).parse(None, 0)
