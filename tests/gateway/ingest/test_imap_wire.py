"""The pure IMAP wire helpers: argument encoding and response parsing, no server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.errors import ImapError
from gateway.ingest import imap_wire as wire


def test_format_uid_set() -> None:
    assert wire.format_uid_set([3, 1, 2, 7, 9, 10]) == "1:3,7,9:10"
    assert wire.format_uid_set([5]) == "5"
    assert wire.format_uid_set([4, 4, 5]) == "4:5"
    with pytest.raises(ValueError):
        wire.format_uid_set([0])
    with pytest.raises(ValueError):
        wire.format_uid_set([])


def test_encode_mailbox_name() -> None:
    assert wire.encode_mailbox_name("INBOX") == '"INBOX"'
    assert wire.encode_mailbox_name("Traités") == '"Trait&AOk-s"'
    assert wire.encode_mailbox_name('A&B "q"') == '"A&-B \\"q\\""'
    for bad in ("", "a\r\nb", "a\0"):
        with pytest.raises(ValueError):
            wire.encode_mailbox_name(bad)


def test_quote_string() -> None:
    assert wire.quote_string('dr "x" \\ y') == '"dr \\"x\\" \\\\ y"'


def test_parse_fetch_response_handles_uid_after_literal_and_strays() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (BODY[] {5}",
        bytearray(b"ab)\r\n"),
        b" UID 7)",
        b"2 FETCH (FLAGS (\\Seen) UID 8)",  # unsolicited: no body
        b"3 FETCH (UID 9 BODY[] {0}",
        bytearray(b""),
        b")",
        b"Fetch completed.",
    ]
    assert wire.parse_fetch_response(lines) == [
        wire.FetchedMessage(uid=7, raw=b"ab)\r\n"),
        wire.FetchedMessage(uid=9, raw=b""),
    ]
    with pytest.raises(ImapError):
        wire.parse_fetch_response([b"1 FETCH (UID 1 BODY[] {5}", bytearray(b"ab")])


def test_fetched_message_repr_has_no_content() -> None:
    assert "secret" not in repr(wire.FetchedMessage(uid=1, raw=b"secret body"))


def test_parse_select_response() -> None:
    lines = [
        b"FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        b"OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.",
        b"3 EXISTS",
        b"0 RECENT",
        b"OK [UIDVALIDITY 1700000000] UIDs valid",
        b"OK [UIDNEXT 42] Predicted next UID",
        b"[READ-WRITE] Select completed (0.001 + 0.000 secs).",
    ]
    assert wire.parse_select_response(lines) == wire.SelectedFolder(
        uidvalidity=1700000000, exists=3, uidnext=42
    )
    without_uidnext = [line for line in lines if b"UIDNEXT" not in line]
    assert wire.parse_select_response(without_uidnext).uidnext is None
    with pytest.raises(ImapError, match="UIDVALIDITY or EXISTS"):
        wire.parse_select_response([line for line in lines if b"EXISTS" not in line])
    with pytest.raises(ImapError, match="UIDVALIDITY or EXISTS"):
        wire.parse_select_response([line for line in lines if b"UIDVALIDITY" not in line])


def test_parse_search_response() -> None:
    # aioimaplib strips "* SEARCH"; the last line is the tagged status text.
    lines = [b"5 3 9", b"12", b"Search completed (0.001 + 0.000 secs)."]
    assert wire.parse_search_response(lines) == [3, 5, 9, 12]
    assert wire.parse_search_response(lines, min_uid=6) == [9, 12]
    # "13:*" matches the highest UID (12) even though it is below 13.
    assert wire.parse_search_response([b"12", b"Search completed."], min_uid=13) == []
    assert wire.parse_search_response([b"", b"Search completed 2."]) == []


def test_exists_and_recent_lines() -> None:
    assert wire.is_exists_line(b"* 4 EXISTS")
    assert wire.is_exists_line(b"4 exists")
    assert not wire.is_exists_line(b"* 4 EXPUNGE")
    assert not wire.is_exists_line(b"A1 OK 4 EXISTS")
    assert wire.is_recent_line(bytearray(b"* 1 RECENT"))
    assert not wire.is_recent_line(b"* 1 EXISTS")


def test_status_text_is_bounded_and_printable() -> None:
    response = SimpleNamespace(
        lines=[b"3 EXISTS", b"NO [ALREADYEXISTS] \x00Mailbox exists" + b"x" * 300]
    )
    text = wire.status_text(response)
    assert text.startswith("NO [ALREADYEXISTS] ?Mailbox exists")
    assert len(text) == 200
    assert wire.status_text(SimpleNamespace(lines=[])) == ""
    assert wire.status_text(SimpleNamespace(lines=[b"OK", None])) == ""


def test_response_lines_are_bytes() -> None:
    response = SimpleNamespace(lines=[b"1 FETCH (BODY[] {3}", bytearray(b"abc"), b")", "str"])
    assert wire.response_lines(response) == [b"1 FETCH (BODY[] {3}", b"abc", b")"]
