from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from parsers.envelope import read_envelope
from parsers.loop_guard import no_reply_reason

OWN = {"signalement@cpts.test", "ne-pas-repondre@cpts.test"}


def _envelope(headers: str) -> object:
    raw = (headers + "\r\nSubject: x\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n").encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return read_envelope(msg)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: dr@medecin.test", None),
        ("From: dr@medecin.test\r\nAuto-Submitted: no", None),
        ("From: dr@medecin.test\r\nAuto-Submitted: auto-replied", "auto-submitted"),
        ("From: dr@medecin.test\r\nAuto-Submitted: auto-generated; x=y", "auto-submitted"),
        ("From: dr@medecin.test\r\nPrecedence: bulk", "precedence"),
        ("From: dr@medecin.test\r\nPrecedence: JUNK", "precedence"),
        ("From: dr@medecin.test\r\nPrecedence: list", "precedence"),
        ("From: dr@medecin.test\r\nX-Auto-Response-Suppress: OOF", "x-auto-response-suppress"),
        ("From: dr@medecin.test\r\nReturn-Path: <>", "null return-path"),
        ("From: MAILER-DAEMON@relay.test", "mailer-daemon"),
        ("From: postmaster@relay.test", "mailer-daemon"),
        ("From: Signalement <SIGNALEMENT@cpts.test>", "our own address"),
        ("From: dr@medecin.test\r\nList-Id: <liste.medecin.test>", "mailing list"),
        (
            "From: dr@medecin.test\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=b",
            "report",
        ),
        ("To: a@b.test", "no sender"),
    ],
)
def test_no_reply_reason(headers: str, reason: str | None) -> None:
    found = no_reply_reason(_envelope(headers), OWN)  # type: ignore[arg-type]
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found
