"""Delivery status notifications, built in code as Postfix, Exim and others write them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from parsers import parse_message
from parsers.dsn import DeliveryReport, read_delivery_report
from parsers.limits import ParseLimits
from parsers.mime_walk import split_mime

OURS = "<aig.0123456789abcdef0123456789abcdef@cpts.test>"
DOCTOR = "gp-gone@medecin.test"

ORIGINAL = (
    f"From: CPTS <signalement@cpts.test>\r\nTo: {DOCTOR}\r\n"
    "Subject: [AIG-2026-000001] Proposition de nouveau patient\r\n"
    f"Message-ID: {OURS}\r\nAuto-Submitted: auto-generated\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n"
)


def _report(
    *parts: str,
    boundary: str = "b0und",
    headers: str = "From: MAILER-DAEMON@mx.medecin.test (Mail Delivery System)\r\n",
) -> bytes:
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return (
        f"{headers}To: signalement@cpts.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\nThis is a MIME-encapsulated message.\r\n\r\n{body}--{boundary}--\r\n"
    ).encode()


def _status(*recipients: str, per_message: str = "Reporting-MTA: dns; mx.medecin.test\r\n") -> str:
    blocks = "\r\n".join(recipients)
    return f"Content-Type: message/delivery-status\r\n\r\n{per_message}\r\n{blocks}"


def _recipient(action: str = "failed", status: str = "5.1.1", diagnostic: str = "") -> str:
    diag = diagnostic or f"smtp; 550 5.1.1 <{DOCTOR}>: Recipient address rejected: User unknown"
    return (
        f"Final-Recipient: rfc822; {DOCTOR}\r\nOriginal-Recipient: rfc822;{DOCTOR}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; 127.0.0.1\r\n"
        f"Diagnostic-Code: {diag}\r\n"
    )


TEXT = "Content-Type: text/plain; charset=us-ascii\r\n\r\nI'm sorry to have to inform you.\r\n"
RETURNED = f"Content-Type: message/rfc822\r\n\r\n{ORIGINAL}"
HEADERS_ONLY = "Content-Type: text/rfc822-headers\r\n\r\n" + ORIGINAL.split("\r\n\r\n")[0] + "\r\n"


def _read(raw: bytes) -> DeliveryReport:
    parsed = parse_message(raw)
    assert parsed.report_kind == "dsn"
    assert parsed.delivery_report is not None
    return parsed.delivery_report


def test_postfix_bounce() -> None:
    per_message = (
        "Reporting-MTA: dns; mx.medecin.test\r\nX-Postfix-Queue-ID: 4ABC\r\n"
        "X-Postfix-Sender: rfc822; signalement@cpts.test\r\n"
        "Arrival-Date: Tue,  1 Dec 2026 10:00:00 +0100 (CET)\r\n"
    )
    report = _read(_report(TEXT, _status(_recipient(), per_message=per_message), RETURNED))
    assert report.reporting_mta == "dns; mx.medecin.test"
    assert report.original_message_id == OURS
    assert report.message_ids == [OURS]
    assert report.action == "failed"
    (recipient,) = report.recipients
    assert recipient.action == "failed" and recipient.status == "5.1.1"
    assert recipient.final_recipient == recipient.original_recipient == DOCTOR
    assert recipient.diagnostic is not None and recipient.diagnostic.startswith("smtp; 550 5.1.1")
    assert report.recipient_for(DOCTOR) is recipient


def test_exim_bounce_with_folded_diagnostic_and_comments() -> None:
    exim = (
        f"Final-Recipient: rfc822;{DOCTOR}\r\nAction: failed (permanent)\r\n"
        "Status: 5.0.0 (permanent failure)\r\nRemote-MTA: dns; mx.medecin.test\r\n"
        "Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach\r\n"
        " does not exist. Please try double-checking the recipient's email\r\n"
        " address for typos.\r\n"
    )
    text = (
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This message was created automatically by mail delivery software.\r\n"
    )
    report = _read(
        _report(text, _status(exim, per_message="Reporting-MTA: dns; exim.test\r\n"), RETURNED)
    )
    (recipient,) = report.recipients
    assert recipient.action == "failed" and recipient.status == "5.0.0"
    assert recipient.diagnostic == (
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist. "
        "Please try double-checking the recipient's email address for typos."
    )
    assert report.original_message_id == OURS


def test_headers_only_returned() -> None:
    report = _read(_report(TEXT, _status(_recipient()), HEADERS_ONLY))
    assert report.original_message_id == OURS
    assert report.action == "failed"


def test_base64_returned_mail() -> None:
    encoded = base64.encodebytes(ORIGINAL.encode()).decode().replace("\n", "\r\n")
    returned = f"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}"
    assert _read(_report(TEXT, _status(_recipient()), returned)).original_message_id == OURS


def test_delayed_is_not_a_failure() -> None:
    delayed = (
        _recipient("delayed", "4.4.1", "smtp; 421 4.4.1 connection timed out")
        + "Will-Retry-Until: Sat, 5 Dec 2026 10:00:00 +0100\r\n"
    )
    report = _read(_report(TEXT, _status(delayed), HEADERS_ONLY))
    assert report.action == "delayed"
    assert report.recipients[0].status == "4.4.1"


def test_success_and_mixed_reports() -> None:
    delivered = _read(_report(TEXT, _status(_recipient("delivered", "2.0.0")), HEADERS_ONLY))
    assert delivered.action is None and delivered.recipient_for(DOCTOR) is None
    other = _recipient("delayed", "4.2.2").replace(DOCTOR, "other@medecin.test")
    mixed = _read(_report(TEXT, _status(other, _recipient()), HEADERS_ONLY))
    assert mixed.action == "failed"
    found = mixed.recipient_for(DOCTOR)
    assert found is not None and found.status == "5.1.1"


def test_missing_action_is_read_from_the_status_class() -> None:
    block = f"Final-Recipient: rfc822; {DOCTOR}\r\nStatus: 5.2.2\r\n"
    assert _read(_report(TEXT, _status(block), HEADERS_ONLY)).action == "failed"


def test_a_dsn_for_someone_elses_mail_still_reads_its_id() -> None:
    """Matching is the daemon's job: the parser reports the id, ours or not."""
    foreign = HEADERS_ONLY.replace(OURS, "<CAF00@mail.gmail.test>")
    report = _read(_report(TEXT, _status(_recipient()), foreign))
    assert report.message_ids == ["<CAF00@mail.gmail.test>"]


def test_fallback_ids_from_the_status_fields_and_the_text() -> None:
    per_message = (
        "Reporting-MTA: dns; mx.medecin.test\r\nOriginal-Envelope-Id: 42\r\n"
        f"X-Original-Message-ID: {OURS}\r\n"
    )
    report = _read(_report(TEXT, _status(_recipient(), per_message=per_message)))
    assert report.original_message_id is None
    assert report.original_envelope_id == "42"
    assert report.message_ids == [OURS]
    pasted = TEXT + "\r\n------ original headers ------\r\nMessage-ID: <aig.pasted@cpts.test>\r\n"
    report = _read(_report(pasted, _status(_recipient())))
    assert report.message_ids == ["<aig.pasted@cpts.test>"]


def test_a_report_wrapped_in_a_mixed_message() -> None:
    inner = _report(TEXT, _status(_recipient()), HEADERS_ONLY, boundary="inner")
    headers, _, body = inner.decode().partition("\r\n\r\n")
    ctype = next(h for h in headers.split("\r\n") if h.startswith("Content-Type"))
    wrapped = (
        "From: gateway@relay.test\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        f"--outer\r\n{ctype}\r\n\r\n{body}\r\n--outer--\r\n"
    ).encode()
    report = read_delivery_report(split_mime(wrapped, ParseLimits()))
    assert report is not None and report.original_message_id == OURS


def test_a_forwarded_report_is_not_ours_to_read() -> None:
    """A DSN attached to someone's mail is that mail's content, not a report to us."""
    dsn = _report(TEXT, _status(_recipient()), HEADERS_ONLY).decode()
    raw = (
        "From: dr@medecin.test\r\nSubject: Fwd: bounce\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
        "Content-Type: text/plain\r\n\r\nRegardez.\r\n--m\r\n"
        f"Content-Type: message/rfc822\r\n\r\n{dsn}\r\n--m--\r\n"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.report_kind is None and parsed.delivery_report is None


def test_a_request_has_no_delivery_report() -> None:
    raw = b"From: dr@medecin.test\r\nSubject: Signalement\r\n\r\nNom : DURAND\r\n"
    assert parse_message(raw).delivery_report is None


def test_an_mdn_has_no_delivery_report() -> None:
    raw = _report(
        TEXT,
        "Content-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822; dr@medecin.test\r\n"
        "Disposition: automatic-action/MDN-sent-automatically; processed\r\n",
    ).replace(b"delivery-status", b"disposition-notification")
    parsed = parse_message(raw)
    assert parsed.report_kind == "mdn" and parsed.delivery_report is None


@pytest.mark.parametrize(
    "status_part",
    [
        "Content-Type: message/delivery-status\r\n\r\n",  # empty
        "Content-Type: message/delivery-status\r\n\r\n\x00\x01garbage: \xff\r\n\r\n:::\r\n",
        "Content-Type: message/delivery-status\r\n\r\nAction: explode\r\nStatus: 9.9.9\r\n",
        "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
        "Content-Type: message/delivery-status\r\n\r\n"
        + "".join(
            f"\r\nFinal-Recipient: rfc822; r{i}@x.test\r\nAction: failed\r\n" for i in range(500)
        ),
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        "Final-Recipient: rfc822; " + "a" * 5000 + "@x.test\r\nAction: failed\r\n"
        "Diagnostic-Code: " + "x" * 10_000 + "\r\n",
    ],
    ids=["empty", "garbage", "unknown-action", "bad-base64", "many-recipients", "huge-fields"],
)
def test_hostile_reports_never_raise_and_stay_bounded(status_part: str) -> None:
    returned = "Content-Type: message/rfc822\r\n\r\nMessage-ID: <" + "x" * 5000 + ">\r\n\r\nx\r\n"
    raw = _report(TEXT, status_part, returned)
    parsed = parse_message(raw)
    assert parsed.report_kind == "dsn"
    report = parsed.delivery_report
    assert report is not None
    assert report.original_message_id is None  # an id too long to be one is no id
    assert len(report.recipients) <= 50
    for recipient in report.recipients:
        assert recipient.action in (None, "failed", "delayed", "delivered", "relayed", "expanded")
        assert len(recipient.diagnostic or "") <= 500
        assert len(recipient.final_recipient or "") <= 320
        assert recipient.status is None or recipient.status[0] in "245"
    parsed.model_dump_json()  # stored as the message's parse result


def test_a_report_with_no_parts() -> None:
    raw = (
        b"From: MAILER-DAEMON@x.test\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=zz\r\n\r\n"
        b"no parts at all\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.report_kind == "dsn"
    assert parsed.delivery_report is not None and parsed.delivery_report.recipients == []
    assert parsed.delivery_report.action is None


@pytest.mark.corpus
def test_real_dsns_of_the_corpus(corpus: Path) -> None:
    """Third-party bounces (sisimai, mimekit, flanker…): read, and most tell their mail."""
    read = with_id = failed = 0
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        raw = path.read_bytes()
        if b"delivery-status" not in raw.lower():
            continue
        parsed = parse_message(raw)
        if parsed.report_kind != "dsn" or parsed.delivery_report is None:
            continue
        report = parsed.delivery_report
        read += 1
        with_id += bool(report.message_ids)
        failed += report.action == "failed"
        parsed.model_dump_json()
    assert read >= 10
    assert with_id >= read // 2
    assert failed >= read // 2
