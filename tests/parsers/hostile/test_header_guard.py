"""``bound_header_block``: header blocks cut to size before the stdlib parses them."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from parsers.header_guard import (
    HEADER_TOO_LONG,
    HEADERS_TOO_LARGE,
    MAX_COMMENT_DEPTH,
    bound_header_block,
)
from parsers.limits import ParseLimits

LIMITS = ParseLimits()


def _parse(block: bytes) -> dict[str, str]:
    message = BytesParser(policy=policy.default).parsebytes(block, headersonly=True)
    return {name.lower(): str(value) for name, value in message.items()}


def test_an_ordinary_block_is_returned_unchanged() -> None:
    block = (
        b"From: Dr Martin <paul.martin@medecin.mssante.fr>\r\n"
        b"Subject: =?utf-8?q?T=C3=A9l=C3=A9-expertise?=\r\n"
        + b"Received: from relay\r\n by mx; Mon, 1 Jan 2024 10:00:00 +0000\r\n" * 60
        + b"\r\n"
    )
    assert bound_header_block(block, LIMITS) == (block, set())


def test_encoded_words_are_cut_at_the_limit_between_two_words() -> None:
    words = b" ".join([b"=?utf-8?q?a?="] * 500)
    block = b"Subject: " + words + b"\r\nTo: a@b.fr\r\n\r\n"
    cut, notes = bound_header_block(block, LIMITS)
    assert notes == {HEADER_TOO_LONG}
    headers = _parse(cut)
    assert headers["subject"] == "a" * LIMITS.max_encoded_words
    assert headers["to"] == "a@b.fr"


def test_an_address_header_is_cut_shorter_than_others() -> None:
    block = b"Reply-To: " + b"a " * 5_000 + b"\r\nX-Note: " + b"b " * 5_000 + b"\r\n\r\n"
    cut, notes = bound_header_block(block, LIMITS)
    assert notes == {HEADER_TOO_LONG}
    headers = _parse(cut)
    assert len(headers["reply-to"]) <= LIMITS.max_structured_header_bytes
    assert LIMITS.max_structured_header_bytes < len(headers["x-note"])
    assert len(headers["x-note"]) <= LIMITS.max_header_value_bytes


def test_headers_past_the_count_are_dropped_with_their_folds() -> None:
    block = b"Cc: x\r\n folded\r\n" * 3_000 + b"Subject: last\r\n\r\nbody\r\n"
    cut, notes = bound_header_block(block, LIMITS)
    assert notes == {HEADERS_TOO_LARGE}
    assert cut.count(b"Cc: x") == LIMITS.max_header_count
    assert cut.count(b" folded") == LIMITS.max_header_count
    assert b"Subject" not in cut and cut.endswith(b"\r\n\r\nbody\r\n")


def test_a_block_over_its_size_keeps_what_follows_its_end() -> None:
    limits = ParseLimits(max_header_bytes=1_000)
    block = b"Subject: s\r\n" + b"X-Filler: " + b"y" * 5_000 + b"\r\nTo: a@b.fr\r\n\r\nbody"
    cut, notes = bound_header_block(block, limits)
    assert notes == {HEADERS_TOO_LARGE}
    assert cut == b"Subject: s\r\n\r\nbody"


def test_comments_nested_too_deep_are_cut_before_the_stdlib_recurses() -> None:
    block = b"Content-Type: text/plain " + b"(" * 2_000 + b"\r\nTo: a@b.fr\r\n\r\n"
    cut, notes = bound_header_block(block, LIMITS)
    assert notes == {HEADER_TOO_LONG}
    assert cut.count(b"(") <= MAX_COMMENT_DEPTH
    assert _parse(cut)["to"] == "a@b.fr"
    balanced = b"From: (a) (b (c)) " * 20 + b"<a@b.fr>\r\n\r\n"  # many, not deep: kept
    assert bound_header_block(balanced, LIMITS) == (balanced, set())
