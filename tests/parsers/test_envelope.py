"""``envelope_from_raw``: the one header-only reader of raw mail; never raises."""

from __future__ import annotations

import random
from email.parser import BytesHeaderParser
from email.policy import compat32

import pytest

from parsers import Envelope, ParseLimits, envelope_from_raw, parse_message
from parsers.envelope import message_id_from_raw
from tests.parsers.builders import build_mail

FROM = b"From: Paul Martin <Paul.Martin@infirmier.mssante.fr>\r\n"


def _compat32_message_id(raw: bytes) -> str | None:
    """How the store read Message-ID before (``gateway.storage.repo._message_id``)."""
    value = BytesHeaderParser(policy=compat32).parsebytes(raw).get("Message-ID")
    return None if value is None else (str(value).strip()[:998] or None)


def test_normal_envelope_is_parse_message_s() -> None:
    raw = build_mail(
        subject="Signalement été",
        body="Nom : DUPONT",
        html="<p>Nom : DUPONT</p>",
        attachments=[("fiche.pdf", "application/pdf", b"%PDF-1.4 x")],
        headers={
            "Cc": "Coordination <Coord@CPTS.fr>",
            "Reply-To": "secretariat@cabinet.fr",
            "In-Reply-To": "<AIG-1@cpts.fr>",
            "References": "<a@x> <AIG-1@cpts.fr>",
        },
    )
    envelope = envelope_from_raw(raw)
    assert envelope == parse_message(raw).envelope
    assert envelope.subject == "Signalement été"
    assert envelope.from_addr == "paul.martin@infirmier.mssante.fr"
    assert envelope.reply_to == "secretariat@cabinet.fr"
    assert envelope.to_addrs == ["signalement@cpts-val-de-seine.mssante.fr", "coord@cpts.fr"]
    assert envelope.in_reply_to == "<AIG-1@cpts.fr>"
    assert envelope.references == ["<a@x>", "<AIG-1@cpts.fr>"]
    assert envelope.content_type == "multipart/mixed"
    assert envelope.message_id is not None
    assert envelope.message_id.endswith("@infirmier.mssante.fr>")
    assert envelope.message_id_raw == envelope.message_id
    assert envelope.date is not None and envelope.date.year == 2025


def test_only_the_header_block_is_read() -> None:
    raw = (
        b"Subject: vraie\r\nContent-Type: multipart/report; report-type=Delivery-Status;"
        b" boundary=B\r\n\r\nSubject: fausse\r\nFrom: intrus@x.fr\r\nMessage-ID: <body@x>\r\n"
        + b"\x00\xff"
        * 2_000_000
    )
    envelope = envelope_from_raw(raw)
    assert envelope.subject == "vraie"
    assert envelope.from_addr is None
    assert envelope.message_id is None
    assert envelope.content_type == "multipart/report"
    assert envelope.report_type == "delivery-status"


def test_missing_message_id() -> None:
    raw = FROM + b"Subject: sans identifiant\r\n\r\ncorps\r\n"
    envelope = envelope_from_raw(raw)
    assert envelope.message_id is None
    assert envelope.message_id_raw is None
    assert envelope.subject == "sans identifiant"
    assert envelope.from_addr == "paul.martin@infirmier.mssante.fr"
    assert envelope.from_name == "Paul Martin"


@pytest.mark.parametrize(
    ("header", "message_id", "message_id_raw"),
    [
        (b"Message-ID: <a@b.fr>", "<a@b.fr>", "<a@b.fr>"),
        (b"Message-ID:\r\n  <folded@b.fr>", "<folded@b.fr>", "<folded@b.fr>"),
        (b"Message-ID: sans-chevrons@b.fr (note)", None, "sans-chevrons@b.fr (note)"),
        (b"Message-ID: <a@b> <c@d>", "<a@b>", "<a@b> <c@d>"),
        (b"Message-ID: <caf\xc3\xa9@b.fr>", "<café@b.fr>", "<caf\ufffd\ufffd@b.fr>"),
        (b"Message-ID: <x@y>\r\nMessage-ID: <z@y>", "<x@y>", "<x@y>"),
        (b"Message-ID: <" + b"x" * 2000 + b"@b.fr>", "<" + "x" * 2000 + "@b.fr>", "<" + "x" * 997),
        (b"Message-ID:   ", None, None),
    ],
)
def test_message_id_as_written_is_the_store_s_key(
    header: bytes, message_id: str | None, message_id_raw: str | None
) -> None:
    raw = FROM + header + b"\r\nSubject: s\r\n\r\nbody\r\n"
    envelope = envelope_from_raw(raw)
    assert envelope.message_id == message_id
    assert envelope.message_id_raw == message_id_raw
    # The duplicate key stays the one the rows already stored carry.
    assert envelope.message_id_raw == _compat32_message_id(raw)


def test_oversized_header_block_is_cut() -> None:
    filler = b"".join(b"X-Filler-%06d: %s\r\n" % (i, b"y" * 60) for i in range(5000))
    raw = FROM + filler + b"Subject: au-dela de la limite\r\n\r\nbody\r\n"
    assert len(raw) > ParseLimits().max_header_bytes
    envelope = envelope_from_raw(raw)
    assert envelope.from_addr == "paul.martin@infirmier.mssante.fr"
    assert envelope.subject == ""
    wide = envelope_from_raw(raw, ParseLimits(max_header_bytes=1_000_000, max_header_count=9_999))
    assert wide.subject == "au-dela de la limite"


def test_a_header_line_cut_by_the_limit_is_dropped() -> None:
    raw = FROM + b"Message-ID: <" + b"x" * 200 + b"@b.fr>\r\nSubject: s\r\n\r\n"
    limits = ParseLimits(max_header_bytes=len(FROM) + 50)
    envelope = envelope_from_raw(raw, limits)
    assert envelope.from_addr == "paul.martin@infirmier.mssante.fr"
    assert envelope.message_id_raw is None  # not a truncated "<xxxx..." taken as whole
    assert envelope_from_raw(raw).message_id_raw == "<" + "x" * 200 + "@b.fr>"


def test_a_single_huge_line_gives_an_empty_envelope() -> None:
    assert envelope_from_raw(b"Subject: " + b"a" * 20_000_000) == Envelope()


@pytest.mark.parametrize("raw", [b"", b"\r\n", b"\r\n\r\nSubject: corps\r\n", b"\n\nFrom: a@b.fr"])
def test_empty_input(raw: bytes) -> None:
    assert envelope_from_raw(raw) == Envelope()


def test_line_endings_and_bom() -> None:
    for raw in (
        b"\xef\xbb\xbfSubject: bom\r\nFrom: a@b.fr\r\n\r\nx",
        b"Subject: bom\nFrom: a@b.fr\n\nx",
        b"Subject: bom\rFrom: a@b.fr\r\rx",
        b"From a@b.fr Mon Mar  3 09:30:00 2025\r\nSubject: bom\r\nFrom: a@b.fr\r\n\r\nx",
    ):
        envelope = envelope_from_raw(raw)
        assert (envelope.subject, envelope.from_addr) == ("bom", "a@b.fr"), raw


def test_every_to_and_cc_header_is_read() -> None:
    raw = b"To: A@b.fr\r\nTo: Dr C <C@D.fr>\r\nCc: e@f.fr, pas une adresse, G@H.fr\r\n\r\n"
    assert envelope_from_raw(raw).to_addrs == ["a@b.fr", "c@d.fr", "e@f.fr", "g@h.fr"]


def test_bad_encodings_and_garbage_never_raise() -> None:
    hostile = [
        b"Subject: \xe9t\xe9\r\nFrom: \xff\xfe <a@b.fr>\r\nDate: pas une date\r\n\r\n",
        b"Subject: =?utf-8?b?####?=\r\nFrom: <<<@@>>>\r\nContent-Type: multipart/;;;\r\n\r\n",
        b"Subject: =?x-inconnu?q?abc?=\r\nReturn-Path: <>\r\n\r\n",
        b"Content-Type: text/plain; charset*=''%FF%FE\r\nTo: \"\r\n\r\n",
        b"\x00" * 1000,
        b":\r\n: :\r\n\xff: \xfe\r\n\r\n",
        bytes(random.Random(7).randbytes(300_000)),
    ]
    for raw in hostile:
        envelope = envelope_from_raw(raw)
        envelope.model_dump_json()  # serialisable: no surrogate escapes left
    first = envelope_from_raw(hostile[0])
    assert (first.from_addr, first.date) == ("a@b.fr", None)
    assert envelope_from_raw(hostile[2]).return_path == ""


def test_parse_message_fallbacks_read_the_same_envelope() -> None:
    raw = b"\xef\xbb\xbf" + build_mail(subject="trop gros", body="x" * 5000)
    parsed = parse_message(raw, limits=ParseLimits(max_message_bytes=1000))
    assert "message.too_large" in {p.code for p in parsed.request.problems}
    assert parsed.envelope.subject == "trop gros"
    assert parsed.envelope == envelope_from_raw(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody",
        b"Message-ID:   not-angled@x  \r\n\r\n",
        b"Message-ID: <a@b>\r\nMessage-ID: <c@d>\r\n\r\n",
        b"Message-ID: <caf\xe9@x>\r\n\r\n",
        b"Message-ID: <a@b>\r\n <continued@x>\r\n\r\n",
        b"Subject: none\r\n\r\n",
        b"",
        b"\xef\xbb\xbfMessage-ID: <bom@x>\r\n\r\n",
        b"X: " + b"y" * 300_000 + b"\r\nMessage-ID: <late@x>\r\n\r\n",
    ],
)
def test_the_cheap_message_id_is_the_envelopes(raw: bytes) -> None:
    assert message_id_from_raw(raw) == envelope_from_raw(raw).message_id_raw
