"""The parse policy reads each header once, and reads it as ``policy.default`` would."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy

from parsers.header_policy import PARSE_POLICY, MemoHeaderRegistry

RAW = (
    b"From: =?utf-8?q?Dr_=C3=89lise_Martin?= <elise.martin@test.mssante.fr>\r\n"
    b'To: cpts@test.mssante.fr, "Secr\xc3\xa9tariat" <sec@test.mssante.fr>\r\n'
    b"Subject: =?iso-8859-1?q?Demande_d'appui_=E9l=E8ve?=\r\n"
    b"Date: Thu, 03 Dec 2026 09:15:00 +0100\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed;\r\n boundary="b1"; charset="utf-8"\r\n'
    b"Content-Disposition: attachment; filename*=utf-8''fiche%20%C3%A9.docx\r\n"
    b"Message-ID: <a@b>\r\n"
    b"X-Broken: (unclosed comment\r\n"
    b"\r\n"
)


def _headers(read_with: EmailPolicy[EmailMessage]) -> EmailMessage:
    parsed = BytesParser(policy=read_with).parsebytes(RAW, headersonly=True)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_every_header_reads_as_policy_default_reads_it() -> None:
    memo, default = _headers(PARSE_POLICY), _headers(policy.default)
    for name in default:
        ours, theirs = memo[name], default[name]
        assert str(ours) == str(theirs)
        assert type(ours).__name__ == type(theirs).__name__
        assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]
    assert memo.get_content_type() == default.get_content_type() == "multipart/mixed"
    assert memo.get_param("boundary") == "b1"
    assert memo.get_filename() == default.get_filename() == "fiche é.docx"
    assert memo["from"].addresses == default["from"].addresses


def test_a_header_read_twice_is_parsed_once() -> None:
    registry = MemoHeaderRegistry()
    local = policy.default.clone(header_factory=registry)
    message = _headers(local)
    first = message["content-type"]
    message.get_content_type()
    message.get_param("boundary")
    assert message["content-type"] is first
    assert len(registry.memo) == 1


def test_the_memo_never_holds_more_than_its_size() -> None:
    registry = MemoHeaderRegistry(size=4)
    for i in range(10):
        registry("Subject", f"objet {i}")
        assert len(registry.memo) <= 4
    # A value parsed after the memo was emptied is parsed again, not lost.
    assert str(registry("Subject", "objet 0")) == "objet 0"
