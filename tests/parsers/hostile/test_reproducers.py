"""Every minimised reproducer of issue 13 parses quickly, in bounded memory, with a precise
problem and no internal error."""

from __future__ import annotations

import resource
import time

import pytest

from parsers import parse_document, parse_message
from parsers.prose import warm_up
from parsers.request import Request
from parsers.text import decode_bytes
from tests.parsers.hostile.reproducers import REPRODUCERS, Reproducer

SECONDS = 5.0  # measured well under 1 s each on a busy 2-core machine; generous
GROWTH_MB = 400  # peak RSS growth; before the fixes one of these took 2.5 GB


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    warm_up()  # the NLP pipeline loads once, outside any input's budget (as in a worker)


def _parse(case: Reproducer, data: bytes) -> Request:
    if case.entry == "message":
        return parse_message(data).request
    return parse_document(case.filename, data)


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_reproducer_is_bounded_and_precise(name: str) -> None:
    case = REPRODUCERS[name]
    data = case.build()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    request = _parse(case, data)
    elapsed = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    codes = {p.code for p in request.problems}
    assert elapsed < SECONDS, f"{name}: {elapsed:.2f} s"
    assert growth < GROWTH_MB, f"{name}: +{growth:.0f} MB"
    assert case.codes <= codes, f"{name}: {sorted(codes)}"
    assert not (case.absent & codes), f"{name}: {sorted(codes)}"
    assert all(
        p.message_fr and not p.message_fr.startswith("Problème de lecture")
        for p in request.problems
    )


@pytest.mark.parametrize("charset", ["punycode", "undefined", "hex", "rot13", "zlib", "idna"])
def test_decode_bytes_never_raises(charset: str) -> None:
    text, fallback = decode_bytes(b"Nom : DUPONT \xff\x80", charset)
    assert "DUPONT" in text and fallback


def test_unreadable_sender_is_reported_for_the_pipeline() -> None:
    # The From header is cut before the stdlib parses it: no address is read, which the
    # pipeline quarantines ("message.sender_unreadable"), never ignores.
    parsed = parse_message(REPRODUCERS["from_encoded_words"].build())
    assert parsed.envelope.from_addr is None
