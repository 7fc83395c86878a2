"""The byte-level splitter builds the tree the stdlib parser builds, over slices of the input."""

from __future__ import annotations

import base64
from email import policy
from email.message import Message
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import mime_split
from parsers.mime_body import decode_payload, payload_text
from parsers.mime_split import MimePart, split_message

Tree = tuple[object, ...]


def _stdlib_tree(message: Message) -> Tree:
    headers = [(name, str(value)) for name, value in message.raw_items()]
    facts = (message.get_content_type(), headers)
    if message.is_multipart():
        children = message.get_payload()
        assert isinstance(children, list)
        nested = [child for child in children if isinstance(child, Message)]
        assert len(nested) == len(children)
        return (*facts, [_stdlib_tree(child) for child in nested])
    try:
        text: object = message.get_payload()
    except Exception as error:  # the same exception must come out of both
        text = type(error)
    return (*facts, text, message.get_payload(decode=True))


def _split_tree(part: MimePart) -> Tree:
    headers = [(name, str(value)) for name, value in part.headers.raw_items()]
    facts = (part.ctype, headers)
    if part.children is not None:
        return (*facts, [_split_tree(child) for child in part.children])
    try:
        text: object = payload_text(part)
    except Exception as error:
        text = type(error)
    return (*facts, text, decode_payload(part))


def _assert_same_tree(raw: bytes) -> MimePart:
    expected = BytesParser(policy=policy.default).parsebytes(raw)
    split = split_message(raw, max_depth=100)
    assert _split_tree(split) == _stdlib_tree(expected)
    return split


def _leaves(part: MimePart) -> list[bytes]:
    if part.children is None:
        return [part.raw_bytes()]
    return [leaf for child in part.children for leaf in _leaves(child)]


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


NESTED = """From: a@b.fr
Subject: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Nom : DUPONT
--inner
Content-Type: text/html

<p>Nom : DUPONT</p>
--inner--
--outer
Content-Type: application/pdf; name="f.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
"""


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_nested_multipart_any_line_ending(ending: str) -> None:
    raw = NESTED.replace("\n", ending).encode()
    tree = _assert_same_tree(raw)
    assert tree.ctype == "multipart/mixed"
    assert tree.children is not None
    assert [child.ctype for child in tree.children] == ["multipart/alternative", "application/pdf"]
    # The line break before a boundary belongs to the boundary.
    assert _leaves(tree) == [b"Nom : DUPONT", b"<p>Nom : DUPONT</p>", b"JVBERi0xLjQK"]
    assert decode_payload(tree.children[1]) == b"%PDF-1.4\n"


def test_rfc822_inside_multipart() -> None:
    inner = "From: c@d.fr\nSubject: inner\nContent-Type: multipart/mixed; boundary=in\n\n"
    inner += "--in\nContent-Type: text/plain\n\nNom : DURAND\n--in--\n"
    raw = _crlf(
        "From: a@b.fr\nContent-Type: multipart/mixed; boundary=out\n\n--out\n"
        "Content-Type: text/plain\n\nJe transfère.\n--out\n"
        f"Content-Type: message/rfc822\n\n{inner}--out--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None
    embedded = tree.children[1]
    assert embedded.ctype == "message/rfc822"
    assert embedded.children is not None and len(embedded.children) == 1
    message = embedded.children[0]
    assert str(message.headers["Subject"]) == "inner"
    assert _leaves(message) == [b"Nom : DURAND"]


def test_missing_closing_boundaries() -> None:
    raw = _crlf(
        "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
        "Content-Type: multipart/related; boundary=B\n\n--B\n\nfirst\n"
        "--A\nContent-Type: text/plain\n\nsecond\n"
    )
    tree = _assert_same_tree(raw)
    # The outer boundary ends the inner multipart, whose close line never came.
    assert _leaves(tree) == [b"first", b"second"]


def test_boundary_like_lines_are_content() -> None:
    body = base64.encodebytes(b"--A\r\n" * 40).decode()
    raw = _crlf(
        "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
        f"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n{body}"
        "--A\nContent-Type: text/plain\n\n--Ab\nx--A\n--A x\n --A\n--A--x\n"
        "--A \t\n\nthird\n--A--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None and len(tree.children) == 3
    assert decode_payload(tree.children[0]) == b"--A\r\n" * 40
    # "--A" followed by spaces/tabs is a boundary; anything else on the line is text.
    assert tree.children[1].raw_bytes() == b"--Ab\r\nx--A\r\n--A x\r\n --A\r\n--A--x"
    assert tree.children[2].raw_bytes() == b"third"


@pytest.mark.parametrize("dash_lines", [0, 5, mime_split._DASH_LINES_TESTED + 3, 500])
def test_lines_that_start_like_a_boundary_are_read_past(dash_lines: int) -> None:
    # Past a few such lines the scan compiles one regex for the part's boundaries: the same
    # tree either way, and a message of its own boundaries compiles none.
    noise = "".join(f"--A{i}\n-- \n" for i in range(dash_lines))
    raw = _crlf(
        "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
        f"Content-Type: text/plain\n\nfirst\n{noise}--A--x\n--A \t\n\nsecond\n--A--\n"
    )
    before = mime_split._boundary_scan.cache_info()
    tree = _assert_same_tree(raw)
    compiled = mime_split._boundary_scan.cache_info().misses - before.misses
    assert [len(leaf) for leaf in _leaves(tree)][1:] == [len(b"second")]
    if dash_lines < mime_split._DASH_LINES_TESTED // 2:
        assert compiled == 0


@pytest.mark.parametrize("boundary", ["a+b(c)?", "=_x.y*z", "[^-]d|e", "-- "])
def test_boundaries_with_regex_characters_are_matched_as_text(boundary: str) -> None:
    raw = _crlf(
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n--{boundary}\n'
        f"Content-Type: text/plain\n\nfirst\n--aab\n--{boundary}x\n--{boundary}\n\n"
        f"second\n--{boundary}--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None and len(tree.children) == 2


def test_outer_boundary_inside_inner_part_ends_it() -> None:
    raw = _crlf(
        "Content-Type: multipart/mixed; boundary=A\n\n--A\n"
        "Content-Type: multipart/mixed; boundary=B\n\n--B\n\nin B\n--A\n\nafter\n--B--\n--A--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None and len(tree.children) == 2
    assert _leaves(tree) == [b"in B", b"after\r\n--B--"]


def test_preamble_and_epilogue_are_not_parts() -> None:
    raw = _crlf(
        "Content-Type: multipart/mixed; boundary=A\n\n"
        "This is a multi-part message in MIME format.\n--Ax\n--A\n\nbody\n--A--\n"
        "epilogue\n--A\nnot a part\n"
    )
    tree = _assert_same_tree(raw)
    assert _leaves(tree) == [b"body"]


def test_start_boundary_missing_keeps_the_preamble_as_body() -> None:
    raw = _crlf("Content-Type: multipart/mixed; boundary=A\n\nline 1\nline 2\n--A--\nrest\n")
    tree = _assert_same_tree(raw)
    assert tree.children is None
    assert tree.raw_bytes() == b"line 1\r\nline 2\r\n"


def test_repeated_boundaries_and_odd_headers() -> None:
    raw = _crlf(
        "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nContent-Type: multipart/digest; boundary=D\n"
        "\n--D\n--D\nSubject: a digest entry\n\nbody\n--D\n"
        "Content-Type: text/plain\nnot a header\n--D\n--D--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None
    # A digest's parts default to message/rfc822.
    assert tree.children[0].ctype == "message/rfc822"


def test_delivery_status_header_blocks() -> None:
    raw = _crlf(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R\n\n"
        "--R\nContent-Type: text/plain\n\nfailed\n--R\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b\nAction: failed\n\n\n--R--\n"
    )
    tree = _assert_same_tree(raw)
    assert tree.children is not None
    status = tree.children[1]
    assert status.children is not None and len(status.children) == 3


def test_no_boundary_parameter_and_truncated_input() -> None:
    _assert_same_tree(b"Content-Type: multipart/mixed\r\n\r\n--x\r\nbody\r\n")
    _assert_same_tree(b"Subject: only headers")
    _assert_same_tree(b"Content-Type: multipart/mixed; boundary=A\r\n\r\n--A")
    _assert_same_tree(b"")


def test_parts_deeper_than_the_limit_stay_opaque() -> None:
    body = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for level in range(6):
        body = (
            f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n".encode()
            + body
            + f"\r\n--b{level}--\r\n".encode()
        )
    tree = split_message(body, max_depth=2)
    depth, part = 0, tree
    while part.children:
        part, depth = part.children[0], depth + 1
    assert depth == 3  # split down to max_depth + 1, which the walker reports as too deep
    assert part.raw_bytes().startswith(b"--b2\r\n")


def test_split_reads_a_memoryview_without_copying() -> None:
    raw = b"\xef\xbb\xbf" + _crlf(NESTED)
    view = memoryview(raw)[3:]
    tree = split_message(view)
    assert tree.buffer.obj is raw
    assert _leaves(tree)[0] == b"Nom : DUPONT"


# -- Differential: random messages from MIME-shaped lines -----------------------------

_LINES = [
    "--A",
    "--A--",
    "--B",
    "--B--",
    "--A  ",
    "--Ax",
    "--",
    "",
    "",
    "Content-Type: multipart/mixed; boundary=A",
    "Content-Type: multipart/alternative; boundary=B",
    "Content-Type: multipart/digest; boundary=B",
    "Content-Type: message/rfc822",
    "Content-Type: message/delivery-status",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Type: multipart/mixed",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Subject: x",
    "From x",
    " folded",
    "Tm9tIDogRFVQT05U",
    "Tm9tIDog=",
    "caf=C3=A9 =",
    "Nom : DUPONT",
    "h\xe9",
]


@st.composite
def _messages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(_LINES), max_size=40))
    endings = draw(st.lists(st.sampled_from(["\r\n", "\n", "\r"]), min_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, endings, strict=False))
    head = "Content-Type: multipart/mixed; boundary=A\r\n\r\n" if draw(st.booleans()) else ""
    cut = draw(st.integers(min_value=0, max_value=3))
    data = (head + text).encode("latin-1")
    return data[: len(data) - cut] if cut else data


@settings(max_examples=300, deadline=None)
@given(_messages())
def test_same_tree_as_the_stdlib(raw: bytes) -> None:
    _assert_same_tree(raw)
